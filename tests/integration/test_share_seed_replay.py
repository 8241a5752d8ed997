"""Every request example of seeds 000, 001 and 003 (the in-scope endpoints), replayed
against a live stack with the seeds' uuids replaced by real ones. Each answer must
have the seed's shape: the same keys, with values of the same types.

The shapes below are written from the seeds' answer examples: ``ANY`` where the
example shows ``null`` (the seed does not say what else it may hold), ``NUMBER``
where it shows a fraction, ``[shape]`` for a list of such items. ``EXTRA`` names the
keys volplane adds to an answer (documented in docs/share-api.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agents import running_agent
from tests.share import account_uuid, data, finished, world
from tests.stack import Client, Stack, new_name
from tests.storage import MiB

ANY = object()
NUMBER = (int, float)
STATUS = {"code": int, "message": str, "messageCn": str, "stack": ANY, "desc": str, "UUID": str}
ENVELOPE = {"scode": int, "desc": str, "message": str, "message_cn": str, "stack": ANY}
RANGE_STATE = {
    "cluster_uuid": str,
    "cluster_name": str,
    "cluster_mode": str,
    "namespace_uuid": str,
    "result": {**ENVELOPE, "data": str},
    "total_count": int,
}
CLUSTER_KEYS = {"cluster_uuid": str, "cluster_name": str, "cluster_mode": str}
TENANT_KEYS = {"tenant": str, "tenant_name": str}
POOL = {
    "UUID": str,
    "Name": str,
    "Type": int,
    "NamespaceUUID": str,
    "ZoneUUID": str,
    "ZoneName": str,
    "MachineUUID": str,
    "IP": str,
    "Port": str,
    "Source": str,
    "Username": str,
    "Password": str,
    "Ctime": int,
    "Mtime": int,
    "VolumeTotalCount": int,
    "AvailHosts": ANY,
    "Volumes": ANY,
    "Capacity": int,
    "ShareNsUUIDs": ANY,
    "Used": int,
    "Attr": {"overAllocationThreshold": str},
    "ShareNsNames": ANY,
    "Status": str,
    "AllocatedCapacity": int,
    "LimitHost": bool,
}
POOL_ANSWER = {"pool": POOL, **CLUSTER_KEYS, **TENANT_KEYS, "PoolTypes": ANY}
POOL_NULL_ANSWER = {"pool": ANY, **CLUSTER_KEYS, **TENANT_KEYS, "PoolTypes": ANY}
VOLUME = {
    "UUID": str,
    "Name": str,
    "NamespaceUUID": str,
    "Type": str,
    "PoolUUID": str,
    "Capacity": int,
    "Used": int,
    "Attr": ANY,
    "PoolName": str,
    "ZoneUUID": str,
    "ZoneName": str,
    "SnapLength": int,
    "SnapCap": int,
    "Ctime": int,
    "Mtime": int,
    "AccessPath": dict,
    "EventState": int,
    "ShareNsUUIDs": ANY,
    "Parent": str,
    "ParentSnapshot": str,
    "Children": ANY,
}
VOLUME_ANSWER = {"volume": VOLUME, "clone_progress": NUMBER, **CLUSTER_KEYS, **TENANT_KEYS}
VOLUME_NULL_ANSWER = {"volume": ANY, "clone_progress": NUMBER, **CLUSTER_KEYS, **TENANT_KEYS}
SNAPSHOT = {
    "Name": str,
    "UUID": str,
    "Volume": str,
    "Desc": str,
    "Status": int,
    "Ctime": int,
    "Attr": ANY,
    "Size": int,
    "Children": [str],
    "Parent": str,
    "Ref": int,
}
SNAPSHOT_ANSWER = {"snapshot": SNAPSHOT, "tree": ANY, **CLUSTER_KEYS, **TENANT_KEYS}
SNAPSHOT_NULL_ANSWER = {"snapshot": ANY, "tree": ANY, **CLUSTER_KEYS, **TENANT_KEYS}
TREE = {"UUID": str, "Parents": dict, "Children": dict, "Root": str}
BACKUP = {
    **TENANT_KEYS,
    "UUID": str,
    "Name": str,
    "BpUUID": str,
    "NsUUID": str,
    "VolumeUUID": str,
    "VolumeCapacity": int,
    "Snapshot": str,
    "Ctime": int,
    "Desc": str,
    "Attr": ANY,
    "VolumeType": str,
    "Mtime": int,
    "BpName": str,
    "ExpiredTime": int,
    "VolumeEventStatus": int,
    "SnapshotUUID": str,
    "Status": str,
    **CLUSTER_KEYS,
}
INSPECTION = {
    "status": STATUS,
    "normal": int,
    "alarm": int,
    "fault": int,
    "score": int,
    "system": ANY,
    "network": ANY,
    "hardware": ANY,
    "state": int,
    "finishedPercent": int,
    "checking": str,
}
META_DATA = {
    "meta_data": {"status": STATUS, "Snapshot": ANY, "DaemonState": str, "SnapshotConfig": ANY}
}
MESSAGE_CN = {"messageCn": str}
LEGACY = {"status_code": int, "message_en": str}


def conforms(value: Any, shape: Any, where: str = "data") -> list[str]:
    """Differences between ``value`` and the seed's ``shape``."""
    if shape is ANY:
        return []
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} instead of an object"]
        problems = []
        if set(value) != set(shape):
            problems.append(
                f"{where}: missing {sorted(set(shape) - set(value))}, "
                f"extra {sorted(set(value) - set(shape))}"
            )
        for key in set(value) & set(shape):
            problems += conforms(value[key], shape[key], f"{where}.{key}")
        return problems
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__} instead of a list"]
        return [
            p for i, item in enumerate(value) for p in conforms(item, shape[0], f"{where}[{i}]")
        ]
    if shape is int and isinstance(value, bool):
        return [f"{where}: bool instead of int"]
    if not isinstance(value, shape):
        return [f"{where}: {type(value).__name__} ({value!r}) instead of {shape}"]
    return []


def check(response: Any, shape: Any, *, extra: dict[str, Any] | None = None) -> Any:
    """The answer is the seed's envelope around ``shape``; returns the data."""
    assert response.status_code == 200, response.text
    body = response.json()
    problems = conforms(body, {**ENVELOPE, **(extra or {}), "data": shape}, "answer")
    assert not problems, problems
    return body["data"]


class Seeds:
    """Real uuids to put where the seed examples have theirs."""

    def __init__(self, client: Client, stack_tmp: Path, agent: Any) -> None:
        self.client = client
        self.w = world(client, agent, stack_tmp)
        self.tenant = account_uuid(client)
        self.tmp = stack_tmp

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.request("POST", path, json=body)

    def get(self, path: str, params: dict[str, Any]) -> Any:
        return self.client.request("GET", path, params=params)


@pytest.fixture
def seeds(production_stack: Stack, tmp_path: Path) -> Any:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        yield Seeds(admin, tmp_path, agent)


def test_seed_000_pool_examples(seeds: Seeds) -> None:
    w, tenant = seeds.w, seeds.tenant
    check(
        seeds.post(
            "/v1/pool/share/list",
            {
                "tenant": tenant,
                "page_num": 1,
                "page_size": 10,
                "filter_name": "",
                "cluster_uuid": w.cluster_uuid,
            },
        ),
        {
            "infos": [{**TENANT_KEYS, "pool": POOL, **CLUSTER_KEYS}],
            "each_range_list_state": [RANGE_STATE],
            "TotalCount": int,
        },
    )
    ref = {"tenant": tenant, "pool_uuid": w.pool_uuid, "cluster_uuid": w.cluster_uuid}
    check(seeds.post("/v1/pool/share/get", ref), POOL_ANSWER)
    # The seed creates an NFS pool; its job may fail here (no NFS server), the
    # immediate answer is what is compared.
    check(
        seeds.post(
            "/v1/pool/share/create",
            {
                "pool_name": "test--",
                "pool_type": 2,
                "zone_uuid": w.zone_uuid,
                "ip": "127.0.0.1",
                "port": "",
                "source": "/exports/b3405f60-fbb2-499d-82ac-d0edaadbf208/data",
                "username": "",
                "password": "",
                "limit_host": True,
                "avail_host": [w.host["uuid"]],
                "avail_tenant": [],
                "attr": {"overAllocationThreshold": "1.0"},
                "cluster_uuid": w.cluster_uuid,
            },
        ),
        POOL_ANSWER,
    )
    check(
        seeds.post(
            "/v1/pool/share/set",
            {**ref, "pool_name": "disks", "attr": {"overAllocationThreshold": "1.0"}},
        ),
        POOL_NULL_ANSWER,
    )
    check(seeds.post("/v1/pool/share/status/check", ref), POOL_NULL_ANSWER)
    check(
        seeds.get("/v1/pool/share/pool_type/support", {"cluster_uuid": w.cluster_uuid}),
        {**POOL_NULL_ANSWER, "PoolTypes": [str]},
    )
    check(
        seeds.post(
            "/v1/pool/share/fc_device/list",
            {"cluster_uuid": w.cluster_uuid, "zone_uuid": w.zone_uuid},
        ),
        {"list": dict},
    )
    answer = seeds.post("/v1/pool/share/delete", {**ref, "pool_name": "nfs_test"})
    check(answer, {"pool": {}})
    finished(seeds.client, answer)


def test_seed_001_volume_examples(seeds: Seeds) -> None:
    w, tenant, client = seeds.w, seeds.tenant, seeds.client
    ref = {"tenant": tenant, "cluster_uuid": w.cluster_uuid}
    create = {
        **ref,
        "pool_name": "disks",
        "pool_uuid": w.pool_uuid,
        "volume_name": "test",
        "volume_type": "block",
        "capacity": 4 * MiB,
        "snap_capacity": 12 * MiB,
        "backing_file": "",
    }
    # The seed's backing_file names a file of its own machine; an empty one makes a
    # new image (as the seed's table says).
    answer = seeds.post("/v1/volume/share/create", create)
    volume = check(answer, VOLUME_ANSWER)["volume"]["UUID"]
    finished(client, answer)
    check(
        seeds.post(
            "/v1/volume/share/list",
            {
                **ref,
                "filter_pool_uuid": "",
                "filter_name": "",
                "page_num": 0,
                "page_size": 10,
            },
        ),
        {
            "list": [{**TENANT_KEYS, "volume": VOLUME, **CLUSTER_KEYS}],
            "each_range_list_state": [RANGE_STATE],
            "TotalCount": int,
        },
    )
    vref = {**ref, "volume_uuid": volume}
    check(seeds.post("/v1/volume/share/get", vref), VOLUME_ANSWER)
    for path in ("/v1/volume/share/used/update", "/v1/volume/share/snap_length/update"):
        answer = seeds.post(path, {**vref, "volume_name": "snap"})
        check(answer, VOLUME_NULL_ANSWER)
        finished(client, answer)

    answer = seeds.post(
        "/v1/volume/share/snapshot/create", {**vref, "desc": "", "snapshot_name": "snap"}
    )
    snapshot = check(answer, SNAPSHOT_ANSWER)["snapshot"]["UUID"]
    finished(client, answer)
    check(seeds.post("/v1/volume/share/snapshot/list", vref), {"list": [SNAPSHOT]})
    check(
        seeds.post("/v1/volume/share/snapshot/tree/get", vref),
        {**SNAPSHOT_NULL_ANSWER, "tree": TREE},
    )

    answer = seeds.post(
        "/v1/volume/share/clone",
        {
            "cluster_uuid": w.cluster_uuid,
            "volume_uuid": volume,
            "volume_name": "zzz",
            "clone_dst_pool_uuid": w.pool_uuid,
            "clone_dst_vol_name": "test",
            "clone_dst_vol_tenant": tenant,
            "snapshot_uuid": snapshot,
            "is_link": True,
        },
    )
    clone = check(answer, VOLUME_NULL_ANSWER)["volume"]["UUID"]
    finished(client, answer)
    # The seed's GET sends the same fields as query string and as body.
    progress = client.request(
        "GET",
        "/v1/volume/share/clone/progress",
        params={**ref, "volume_uuid": clone},
        json={**ref, "volume_uuid": clone},
    )
    check(progress, VOLUME_NULL_ANSWER)

    storage = client.call(
        "POST",
        "/v1/backup-storage/image-store",
        json={
            "params": {
                "hostUuid": w.host["uuid"],
                "url": str(seeds.tmp / "bs"),
                "name": new_name("bs"),
            }
        },
    ).json()["inventory"]
    client.call("POST", f"/v1/zones/{w.zone_uuid}/backup-storage/{storage['uuid']}")
    answer = seeds.post(
        "/v1/volume/share/backup/add",
        {
            "cluster_uuid": w.cluster_uuid,
            "volume_uuid": volume,
            "snapshot_uuid": snapshot,
            "backup_name": "backup",
            "backup_point_uuid": storage["uuid"],
            "desc": "",
        },
    )
    backup = check(answer, {"backup": BACKUP})["backup"]["UUID"]
    finished(client, answer)
    listed = seeds.get(
        "/v1/volume/share/backup/list",
        {
            "page_num": 0,
            "page_size": 10,
            "filter_name": "",
            "tenant": tenant,
            "filter_desc": "",
            "filter_start_time": 1615192208,
            "filter_end_time": 4102444800,
            "cluster_uuid": w.cluster_uuid,
            "filter_volume_uuid": volume,
        },
    )
    assert check(listed, {"backup": [BACKUP], "TotalCount": int})["TotalCount"] == 1
    answer = seeds.post(
        "/v1/volume/share/backup/restore",
        {
            "backup_uuid": backup,
            "new_volume_name": "restore",
            "new_pool_uuid": w.pool_uuid,
            "new_volume_tenant": tenant,
            "cluster_uuid": w.cluster_uuid,
        },
    )
    restored = check(answer, {"backup": ANY, "volume": VOLUME})["volume"]["UUID"]
    finished(client, answer)

    answer = seeds.post("/v1/volume/share/snapshot/rollback", {**vref, "snapshot_uuid": snapshot})
    check(answer, SNAPSHOT_NULL_ANSWER)
    finished(client, answer)
    for uuid in (clone, restored):
        answer = seeds.post(
            "/v1/volume/share/delete",
            {**ref, "volume_uuid": uuid, "volume_name": "test", "force": True},
        )
        check(answer, VOLUME_NULL_ANSWER)
        finished(client, answer)
    answer = seeds.post(
        "/v1/volume/share/snapshot/delete",
        {**vref, "snapshot_name": "snap", "snapshot_uuid": snapshot},
    )
    check(answer, SNAPSHOT_NULL_ANSWER)
    finished(client, answer)
    answer = seeds.post("/v1/volume/share/backup/delete", {**ref, "backup_uuid": backup})
    check(answer, {})
    finished(client, answer)
    answer = seeds.post("/v1/volume/share/delete", {**vref, "volume_name": "test", "force": True})
    check(answer, VOLUME_NULL_ANSWER)
    finished(client, answer)


def test_seed_003_cluster_examples(seeds: Seeds) -> None:
    w, client = seeds.w, seeds.client
    # cluster/add carries no zone in the seed; several zones exist in this stack, so
    # volplane's zone_uuid is added (with one zone it may be left out).
    answer = seeds.post(
        "/v1/cluster/add",
        {
            "ip": "192.168.201.101",
            "name": "name_192.168.201.101",
            "desc": "第一个集群",
            "zone_uuid": w.zone_uuid,
        },
    )
    added = check(answer, {"uuid": str, "name": str, "desc": str, "ip": str}, extra=LEGACY)["uuid"]
    finished(client, answer)
    check(
        seeds.get("/v1/cluster/get", {"cluster_uuid": w.cluster_uuid}),
        {
            "cluster_uuid": str,
            "name": str,
            "desc": str,
            "tenants": list,
            "candidates": [str],
            "TopoHostNode": [
                {
                    "UUID": str,
                    "ID": int,
                    "managerNet": dict,
                    "computeNet": ANY,
                    "storageNet": dict,
                    "backupNet": dict,
                    "domain": str,
                    "name": str,
                    "IsSystemService": bool,
                    "services": {
                        "UUID": str,
                        "manager": ANY,
                        "center": ANY,
                        "usm": ANY,
                        "vsm": ANY,
                        "network": ANY,
                        "hyper": ANY,
                        "agentStatus": int,
                        "hostMode": int,
                    },
                }
            ],
        },
    )
    check(
        seeds.get("/v1/cluster/list", {}),
        {
            "list": [{"cluster_uuid": str, "cluster_name": str, "ctime": int, "candidates": ANY}],
            "total_count": int,
        },
        extra=MESSAGE_CN,
    )
    inner: dict[str, Any] = {
        key: int
        for key in (
            "total_size",
            "used",
            "allocated",
            "pool_count",
            "volume_total_count",
            "volume_health_count",
            "volume_degrade_count",
            "volume_failed_count",
            "physic_host_total_count",
            "physic_host_health_count",
            "physic_host_down_count",
            "ssd",
            "hdd",
            "data_dev",
            "cache_dev",
            "storage_host_total_count",
            "storage_host_health_count",
            "storage_host_down_count",
        )
    }
    inner.update(cpu_usage=NUMBER, memory_usage=NUMBER, capacity_usage=NUMBER)
    check(
        seeds.get("/v1/cluster/system/service/storage", {"cluster_uuid": w.cluster_uuid}),
        {
            "inner": inner,
            "external": {
                "total_size": int,
                "used": int,
                "pool_count": int,
                "volume_total_count": int,
            },
        },
        extra=MESSAGE_CN,
    )
    body = {
        "cluster_name": "clster_52_0905",
        "check_system": True,
        "check_network": True,
        "check_hardware": True,
        "cluster_uuid": w.cluster_uuid,
    }
    answer = seeds.post("/v1/cluster/inspection", body)
    check(answer, INSPECTION, extra=MESSAGE_CN)
    finished(client, answer)
    check(
        seeds.get("/v1/cluster/inspection/progress", {"cluster_uuid": w.cluster_uuid}), INSPECTION
    )
    check(
        seeds.post(
            "/v1/cluster/inspection/stop",
            {"cluster_name": "clster_161_0924", "cluster_uuid": w.cluster_uuid},
        ),
        INSPECTION,
        extra=MESSAGE_CN,
    )

    where = {"ip": "10.30.10.24", "cluster_uuid": w.cluster_uuid}
    answer = seeds.post("/v1/cluster/data/snapshot/save", where)
    check(answer, META_DATA)
    name = finished(client, answer)["inventory"]["fileName"]
    listed = check(seeds.get("/v1/cluster/data/snapshot/list", where), META_DATA)
    assert name in listed["meta_data"]["Snapshot"]
    answer = seeds.post("/v1/cluster/data/snapshot/delete", {**where, "file_name": name})
    check(answer, META_DATA)
    finished(client, answer)

    # The seed's get/set/global/config show no answers; these are volplane's (see
    # docs/share-api.md). Its set example names no cluster: volplane adds one here so
    # the replay does not change every pool of the shared test stack.
    config = {
        "cluster_uuid": str,
        "StorOverAllocationThreshold": NUMBER,
        "CPUOverAllocationThreshold": NUMBER,
        "MemOverAllocationThreshold": NUMBER,
        "USDOverAllocationThreshold": NUMBER,
    }
    answer = seeds.post(
        "/v1/cluster/set/global/config",
        {
            "ip": "10.30.10.25",
            "StorOverAllocationThreshold": 0.7,
            "CPUOverAllocationThreshold": 0.8,
            "cluster_uuid": w.cluster_uuid,
        },
    )
    check(answer, config)
    finished(client, answer)
    got = check(
        seeds.get("/v1/cluster/get/global/config", {"cluster_uuid": w.cluster_uuid}), config
    )
    assert got["StorOverAllocationThreshold"] == 0.7 and got["CPUOverAllocationThreshold"] == 0.8
    progress = check(
        seeds.get("/v1/cluster/host/task/progress", {"cluster_uuid": w.cluster_uuid}),
        {"progress": NUMBER},
    )
    assert 0 <= progress["progress"] <= 1

    answer = seeds.post("/v1/cluster/delete", {"cluster_uuid": added, "force": True})
    check(answer, {"uuid": str, "name": str}, extra=LEGACY)
    finished(client, answer)
    assert data(seeds.get("/v1/cluster/list", {"filter_uuid": added}))["total_count"] == 0
