"""Volumes on real qcow2 files through a live stack and a real agent (CONTRACT §5, §6)."""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path

import pytest

from drivers import qcow2
from tests.infra import Infra
from tests.stack import Client, Stack, new_name
from tests.storage import (
    MiB,
    allocated_matches_volumes,
    chain,
    create_volume,
    error_code,
    get_volume,
    holds,
    inventory,
    pool_files,
    snapshot,
    volume,
    write,
)
from volplane.sizes import volume_size

pytestmark = pytest.mark.integration


def test_volume_lifecycle_on_a_real_image(admin: Client, infra: Infra) -> None:
    pool = infra.pool
    created = volume(admin, pool["uuid"], 64 * MiB)
    path = created["installPath"]
    assert created["status"] == "Ready" and created["size"] == 64 * MiB
    assert created["primaryStorageUuid"] == pool["uuid"]
    assert created["hostUuid"] == infra.host["uuid"]
    assert created["snapshotCapacity"] == 3 * 64 * MiB
    assert (
        Path(path).parent == Path(pool["mountPath"])
        and qcow2.info(Path(path)).virtual_size == 64 * MiB
    )
    assert allocated_matches_volumes(admin, pool["uuid"])

    actions = f"/v1/volumes/{created['uuid']}/actions"
    grown = inventory(
        admin.call(
            "PUT",
            f"/v1/volumes/data/resize/{created['uuid']}/actions",
            json={"resizeDataVolume": {"size": 128 * MiB}},
        )
    )
    assert grown["size"] == 128 * MiB and qcow2.info(Path(path)).virtual_size == 128 * MiB
    assert allocated_matches_volumes(admin, pool["uuid"])
    shrink = admin.call("PUT", actions, json={"resizeDataVolume": {"size": 32 * MiB}})
    assert error_code(shrink) == "VOLPLANE.STORAGE.1103"

    write(path, 0xAB, 0, 8 * MiB)
    synced = inventory(admin.call("PUT", actions, json={"syncVolumeSize": {}}))
    assert synced["actualSize"] >= 8 * MiB
    renamed = inventory(admin.call("PUT", actions, json={"updateVolume": {"name": "renamed"}}))
    assert renamed["name"] == "renamed"
    disabled = inventory(
        admin.call("PUT", actions, json={"changeVolumeState": {"stateEvent": "disable"}})
    )
    assert disabled["state"] == "Disabled"
    assert admin.get("/v1/volumes", params={"q": "name=renamed"}).json()["inventories"]
    assert admin.get("/v1/volumes", params={"q": f"primaryStorage.name={pool['name']}"}).json()[
        "inventories"
    ]

    assert admin.call("DELETE", f"/v1/volumes/{created['uuid']}").status_code == 200
    assert not os.path.exists(path)
    assert admin.get(f"/v1/volumes/{created['uuid']}").status_code == 404
    assert allocated_matches_volumes(admin, pool["uuid"])


def test_capacity_is_enforced_at_create_and_resize(admin: Client, infra: Infra) -> None:
    pool = admin.get(f"/v1/primary-storage/{infra.pool['uuid']}").json()["inventories"][0]
    limit = int(pool["totalCapacity"] * pool["overAllocationThreshold"])
    too_big = create_volume(admin, pool["uuid"], limit + MiB)
    assert error_code(too_big) == "VOLPLANE.STORAGE.1001"

    small = volume(admin, pool["uuid"], 16 * MiB)
    beyond = admin.call(
        "PUT",
        f"/v1/volumes/{small['uuid']}/actions",
        json={"resizeDataVolume": {"size": limit + MiB}},
    )
    assert error_code(beyond) == "VOLPLANE.STORAGE.1001"
    assert get_volume(admin, small["uuid"])["size"] == 16 * MiB
    assert qcow2.info(Path(small["installPath"])).virtual_size == 16 * MiB
    assert allocated_matches_volumes(admin, pool["uuid"])


def test_delete_with_snapshots_needs_force_and_leaves_no_file(admin: Client, infra: Infra) -> None:
    created = volume(admin, infra.pool["uuid"])
    snapshot(admin, created["uuid"])
    snapshot(admin, created["uuid"])
    owned = [f for f in pool_files(infra.pool["mountPath"]) if created["uuid"] in f]
    assert len(owned) == 3

    refused = admin.call("DELETE", f"/v1/volumes/{created['uuid']}")
    assert error_code(refused) == "VOLPLANE.RESOURCE.1101"
    assert admin.call("DELETE", f"/v1/volumes/{created['uuid']}?force=true").status_code == 200
    assert not [f for f in pool_files(infra.pool["mountPath"]) if created["uuid"] in f]
    assert (
        admin.get("/v1/volume-snapshots", params={"q": f"volumeUuid={created['uuid']}"}).json()[
            "inventories"
        ]
        == []
    )


def test_volume_from_a_backing_file_adopts_it_and_flatten_frees_it(
    admin: Client, infra: Infra
) -> None:
    template = Path(infra.pool["mountPath"]) / f"template-{new_name()}.qcow2"
    qcow2.create(template, size=32 * MiB)
    write(str(template), 0x5A)
    created = inventory(
        admin.call(
            "POST",
            "/v1/volumes/data",
            json={
                "params": {
                    "name": new_name(),
                    "backingFile": str(template),
                    "primaryStorageUuid": infra.pool["uuid"],
                }
            },
        )
    )
    assert created["size"] == 32 * MiB
    assert chain(created["installPath"]) == [created["installPath"], str(template)]
    assert holds(created["installPath"], 0x5A)

    inventory(
        admin.call("PUT", f"/v1/volumes/{created['uuid']}/actions", json={"flattenVolume": {}})
    )

    assert chain(created["installPath"]) == [created["installPath"]]
    assert holds(created["installPath"], 0x5A)
    assert admin.call("DELETE", f"/v1/volumes/{created['uuid']}").status_code == 200
    assert template.exists(), "a template the volume adopted is never deleted with it"


def test_ten_volumes_in_parallel(admin: Client, infra: Infra) -> None:
    pool_uuid = infra.pool["uuid"]

    def lifecycle(index: int) -> str:
        created = volume(admin, pool_uuid, 16 * MiB)
        write(created["installPath"], index + 1)
        snapshot(admin, created["uuid"])
        write(created["installPath"], 0xEE)
        return str(created["uuid"])

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        uuids = list(pool.map(lifecycle, range(10)))

    for index, uuid in enumerate(uuids):
        found = get_volume(admin, uuid)
        assert found["status"] == "Ready" and found["currentSnapshotUuid"]
        assert holds(chain(found["installPath"])[1], index + 1)
    assert allocated_matches_volumes(admin, pool_uuid)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        deleted = list(
            pool.map(lambda u: admin.call("DELETE", f"/v1/volumes/{u}?force=true"), uuids)
        )
    assert all(r.status_code == 200 for r in deleted)
    assert allocated_matches_volumes(admin, pool_uuid)


def test_another_tenants_volume_is_not_found(
    production_stack: Stack, admin: Client, infra: Infra
) -> None:
    owner_name, other_name = new_name("owner"), new_name("other")
    admin.create_account(owner_name, "pw")
    admin.create_account(other_name, "pw")
    owner = production_stack.login(owner_name, "pw")
    other = production_stack.login(other_name, "pw")
    mine = volume(owner, infra.pool["uuid"])
    taken = snapshot(owner, mine["uuid"])

    assert other.get(f"/v1/volumes/{mine['uuid']}").status_code == 404
    assert other.get(f"/v1/volume-snapshots/{taken['uuid']}").status_code == 404
    assert (
        other.get("/v1/volumes", params={"q": f"uuid={mine['uuid']}"}).json()["inventories"] == []
    )
    refused = other.call("DELETE", f"/v1/volumes/{mine['uuid']}?force=true")
    assert error_code(refused) == "VOLPLANE.RESOURCE.1001"
    reverted = other.call(
        "PUT",
        f"/v1/volume-snapshots/{taken['uuid']}/actions",
        json={"revertVolumeFromSnapshot": {}},
    )
    assert error_code(reverted) == "VOLPLANE.RESOURCE.1001"
    assert admin.get(f"/v1/volumes/{mine['uuid']}").status_code == 200
    assert get_volume(owner, mine["uuid"])["status"] == "Ready"


def test_sizes_that_are_not_whole_sectors_are_rounded_up_everywhere(
    admin: Client, infra: Infra
) -> None:
    # Create rounds up, as qemu-img does
    created = volume(admin, infra.pool["uuid"], 8 * MiB + 1)
    path = Path(created["installPath"])
    assert created["size"] == 8 * MiB + 512 == qcow2.info(path).virtual_size

    # Resize (both of ZStack's paths) rounds up the same, instead of failing in qemu-img
    for url, size in [
        (f"/v1/volumes/{created['uuid']}/actions", 16 * MiB + 100),
        (f"/v1/volumes/data/resize/{created['uuid']}/actions", 24 * MiB + 511),
    ]:
        grown = inventory(admin.call("PUT", url, json={"resizeDataVolume": {"size": size}}))
        assert grown["size"] == volume_size(size) == qcow2.info(path).virtual_size
    assert allocated_matches_volumes(admin, infra.pool["uuid"])
    assert admin.call("DELETE", f"/v1/volumes/{created['uuid']}").status_code == 200

    # A volume made from a disk offering of such a size follows the same rule
    offering = inventory(
        admin.call(
            "POST",
            "/v1/disk-offerings",
            json={"params": {"name": new_name(), "diskSize": 4 * MiB + 3}},
        )
    )
    offered = inventory(
        admin.call(
            "POST",
            "/v1/volumes/data",
            json={
                "params": {
                    "name": new_name(),
                    "diskOfferingUuid": offering["uuid"],
                    "primaryStorageUuid": infra.pool["uuid"],
                }
            },
        )
    )
    assert offered["size"] == 4 * MiB + 512 == qcow2.info(Path(offered["installPath"])).virtual_size
    assert allocated_matches_volumes(admin, infra.pool["uuid"])
