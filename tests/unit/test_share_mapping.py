"""Pure parts of the share-storage dialect: codes, request parsing, object mapping."""

from __future__ import annotations

from typing import Any

import pytest

from api.routes.share_pools import create_params
from api.share import requests as rq
from api.share.envelope import error_envelope, scode_of
from api.share.inventories import (
    PoolContext,
    SnapshotTree,
    share_pool,
    share_type_number,
    split_source,
    unix,
)
from schemas.infra import Host
from volplane.errors import (
    InsufficientCapacity,
    InvalidParameter,
    ResourceNotFound,
    UnsupportedPoolType,
    all_error_classes,
)

CLUSTER = "a97eb422-f42b-4b85-8556-725f152661f0"


def test_every_error_code_has_a_distinct_nonzero_scode() -> None:
    codes = {cls.code for cls in all_error_classes()}
    scodes = {scode_of(code) for code in codes}
    assert 0 not in scodes and len(scodes) == len(codes)
    assert scode_of("VOLPLANE.ARG.1002") == 21002


def test_error_envelope_carries_code_and_both_messages() -> None:
    body = error_envelope(InsufficientCapacity("pool p is full"))
    assert body == {
        "scode": 61001,
        "desc": "VOLPLANE.STORAGE.1001",
        "message": "pool p is full",
        "message_cn": "存储池容量不足",
        "stack": None,
        "data": None,
    }
    assert error_envelope(ResourceNotFound("x"))["message_cn"] == "资源不存在"


def test_seed_uuids_are_accepted_dashed_and_empty_filters_mean_none() -> None:
    parsed = rq.parse(
        rq.VolumeList,
        {"tenant": "F" * 32, "cluster_uuid": CLUSTER, "filter_pool_uuid": "", "page_size": 10},
    )
    assert parsed.cluster_uuid == CLUSTER.replace("-", "")
    assert parsed.tenant == "f" * 32 and parsed.filter_pool_uuid is None


def test_missing_and_mistyped_fields_are_invalid_parameters() -> None:
    with pytest.raises(InvalidParameter, match="snap_capacity"):
        rq.parse(
            rq.VolumeCreate,
            {
                "tenant": "f" * 32,
                "cluster_uuid": CLUSTER,
                "pool_uuid": "e" * 32,
                "volume_name": "v",
                "volume_type": "block",
            },
        )
    with pytest.raises(InvalidParameter, match="is_link"):
        rq.parse(
            rq.VolumeClone,
            {
                "volume_uuid": "e" * 32,
                "volume_name": "v",
                "cluster_uuid": CLUSTER,
                "clone_dst_vol_name": "c",
                "clone_dst_vol_tenant": "f" * 32,
                "clone_dst_pool_uuid": "e" * 32,
                "is_link": {"no": 1},
                "snapshot_uuid": "d" * 32,
            },
        )


def test_the_seed_set_global_config_example_parses_without_a_cluster() -> None:
    parsed = rq.parse(
        rq.GlobalConfigSet,
        {
            "ip": "10.30.10.25",
            "StorOverAllocationThreshold": 0.7,
            "CPUOverAllocationThreshold": 0.8,
        },
    )
    assert parsed.cluster_uuid is None and parsed.StorOverAllocationThreshold == 0.7


def _create(**fields: object) -> rq.PoolCreate:
    body = {
        "cluster_uuid": CLUSTER,
        "pool_name": "p",
        "zone_uuid": "3e2f589c-d5d7-4807-9c03-238fe967cdbd",
        "ip": "10.30.10.115",
        "attr": {},
        **fields,
    }
    return rq.parse(rq.PoolCreate, body)


def test_pool_create_maps_onto_add_primary_storage() -> None:
    nfs = create_params(_create(pool_type=2, source="/exports/data", port="2049"), None, 1.5)
    assert nfs["type"] == "nfs" and nfs["url"] == "10.30.10.115:/exports/data"
    assert nfs["mountOptions"] == ["port=2049"] and nfs["overAllocationThreshold"] == 1.5
    assert nfs["clusterUuid"] == CLUSTER.replace("-", "") and "hostUuid" not in nfs

    host = Host(uuid="h" * 32)
    disk = create_params(
        _create(
            pool_type=4, source="wwn-0x5000c500ad9285bb", attr={"overAllocationThreshold": "2"}
        ),
        host,
        1.0,
    )
    assert disk["type"] == "disk" and disk["hostUuid"] == host.uuid
    assert disk["url"] == "wwn-0x5000c500ad9285bb" and disk["overAllocationThreshold"] == 2.0

    samba = create_params(_create(pool_type=3, source="/share", username="bob"), None, 1.0)
    assert samba["url"] == "//10.30.10.115/share" and samba["mountOptions"] == ["username=bob"]
    with pytest.raises(UnsupportedPoolType):
        create_params(_create(pool_type=6, source="pool"), None, 1.0)
    with pytest.raises(InvalidParameter):
        create_params(_create(pool_type=42, source="x"), None, 1.0)


def test_pool_inventory_becomes_the_seed_pool() -> None:
    inventory = {
        "uuid": "p" * 32,
        "name": "nfs1",
        "type": "NFS",  # ZStack's name; the share dialect reads volplane's own
        "poolType": "nfs",
        "url": "10.30.10.115:/exports/data",
        "zoneUuid": "z" * 32,
        "hostUuid": None,
        "state": "Enabled",
        "status": "Connected",
        "totalCapacity": 1000,
        "availableCapacity": 400,
        "allocatedCapacity": 300,
        "overAllocationThreshold": 1.0,
        "createDate": "2021-03-15T10:33:52.000Z",
        "lastOpDate": "2021-03-15T10:33:52.000Z",
    }
    hosts = [{"uuid": "h" * 32, "managementIp": "10.0.0.1"}]
    pool = share_pool(inventory, PoolContext(zone_name="default", hosts=hosts, volume_count=2))
    assert pool["Type"] == 2 and pool["IP"] == "10.30.10.115" and pool["Source"] == "/exports/data"
    assert pool["Used"] == 600 and pool["Capacity"] == 1000 and pool["AllocatedCapacity"] == 300
    assert pool["Attr"] == {"overAllocationThreshold": "1.0"} and pool["Status"] == "healthy"
    assert pool["Ctime"] == 1615804432 and pool["AvailHosts"] == ["h" * 32]
    assert pool["LimitHost"] is False and pool["VolumeTotalCount"] == 2


def test_type_numbers_and_sources() -> None:
    assert [share_type_number(t) for t in ("nfs", "samba", "disk", "local-storage", "smp")] == [
        2,
        3,
        4,
        7,
        8,
    ]
    assert split_source("samba", "//srv/share") == ("srv", "share")
    assert split_source("local-storage", "/data") == ("", "/data")
    assert unix(None) == 0


def test_snapshot_tree_in_the_seed_form() -> None:
    snapshots: list[dict[str, Any]] = [
        {"uuid": "a" * 32, "name": "aaa", "parentUuid": None},
        {"uuid": "b" * 32, "name": "bbb", "parentUuid": "a" * 32},
        {"uuid": "c" * 32, "name": "bbb", "parentUuid": "a" * 32},
    ]
    tree = SnapshotTree.of(snapshots, current="a" * 32)
    view = tree.view()
    # A repeated name is shown by uuid so every node stays distinct.
    assert view["Parents"] == {"aaa": "", "b" * 32: "aaa", "c" * 32: "aaa", "head": "aaa"}
    assert view["Children"] == {
        "": {"Children": ["aaa"]},
        "aaa": {"Children": ["b" * 32, "c" * 32, "head"]},
    }
    assert view["Root"] == "aaa" and view["UUID"] == ""
    assert tree.children("b" * 32) == [] and tree.label(None) == ""
