"""Volume backups end to end on the live stack: real agents, qcow2 files, chunk stores."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agents import AgentProcess
from tests.infra import Infra, infrastructure
from tests.stack import Client, Stack, job_uuid, new_name, wait_until
from tests.storage import MiB, error_code, inventory, pool_files, snapshot, volume, write

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def infra(
    production_stack: Stack, agent: AgentProcess, tmp_path_factory: pytest.TempPathFactory
) -> Infra:
    """The shared infrastructure, with backup storage."""
    return infrastructure(
        production_stack.login(), agent, tmp_path_factory.mktemp("infra"), backup=True
    )


def template(pool: dict[str, Any], size: int, extents: list[tuple[int, int]], seed: int) -> str:
    """A raw image of random bytes at ``extents`` and holes elsewhere, inside the pool."""
    path = Path(pool["mountPath"]) / f"template-{new_name()}.img"
    rng = random.Random(seed)
    with path.open("wb") as f:
        f.truncate(size)
        for offset, length in extents:
            f.seek(offset)
            f.write(rng.randbytes(length))
    return str(path)


def same_image(first: str, second: str) -> bool:
    found = subprocess.run(["qemu-img", "compare", "-U", first, second], capture_output=True)
    return found.returncode == 0


def backup(client: Client, volume_uuid: str, storage_uuid: str, **params: Any) -> httpx.Response:
    body = {"backupStorageUuid": storage_uuid, "name": new_name("bk"), **params}
    return client.call("POST", f"/v1/volumes/{volume_uuid}/volume-backups", json={"params": body})


def restore(client: Client, backup_uuid: str, pool_uuid: str, **params: Any) -> httpx.Response:
    body = {"name": new_name("restored"), "primaryStorageUuid": pool_uuid, **params}
    return client.call(
        "POST", f"/v1/volumes/data/from/volume-backups/{backup_uuid}", json={"params": body}
    )


def store_dir(infra: Infra) -> Path:
    assert infra.backup_storage is not None
    return Path(infra.backup_storage["url"])


def data_volume(
    client: Client, infra: Infra, size: int, extents: list[tuple[int, int]], seed: int
) -> dict[str, Any]:
    backing = template(infra.pool, size, extents, seed)
    return volume(client, infra.pool["uuid"], size, backingFile=backing)


def test_round_trip_with_holes_to_a_pool_on_another_host(
    admin: Client, infra: Infra, remote_pool: dict[str, Any]
) -> None:
    # Given a volume with random data, holes, and writes of its own on top
    assert infra.backup_storage is not None
    vol = data_volume(admin, infra, 48 * MiB, [(0, 3 * MiB), (20 * MiB + 4096, 6 * MiB)], seed=1)
    write(vol["installPath"], 0x5A, 40 * MiB, 2 * MiB)
    # When it is backed up and restored into a pool on another host
    made = inventory(backup(admin, vol["uuid"], infra.backup_storage["uuid"], description="rt"))
    restored = inventory(restore(admin, made["uuid"], remote_pool["uuid"]))
    # Then the restored volume shows the guest the same bytes
    assert made["status"] == "Ready" and made["mode"] == "full" and made["progress"] == 100
    assert made["size"] == 48 * MiB and made["dataSize"] <= 12 * MiB + 4 * MiB
    assert restored["status"] == "Ready" and restored["hostUuid"] == remote_pool["hostUuid"]
    assert restored["size"] == 48 * MiB
    assert same_image(vol["installPath"], restored["installPath"])
    listed = admin.get("/v1/volume-backups", params={"q": [f"volumeUuid={vol['uuid']}"]})
    assert [b["uuid"] for b in listed.json()["inventories"]] == [made["uuid"]]


def test_backup_of_a_snapshot_while_the_volume_changes(admin: Client, infra: Infra) -> None:
    assert infra.backup_storage is not None
    vol = data_volume(admin, infra, 32 * MiB, [(0, 16 * MiB)], seed=2)
    taken = snapshot(admin, vol["uuid"])
    snap_path = taken["primaryStorageInstallPath"]
    accepted = admin.request(
        "POST",
        f"/v1/volumes/{vol['uuid']}/volume-backups",
        json={
            "params": {
                "backupStorageUuid": infra.backup_storage["uuid"],
                "name": new_name(),
                "snapshotUuid": taken["uuid"],
            }
        },
    )
    assert accepted.status_code == 202, accepted.text
    for index in range(8):  # the guest keeps writing while the backup runs
        write(vol["installPath"], 0x10 + index, index * 2 * MiB, MiB)
    made = inventory(admin.wait(accepted.json()["location"]))
    restored = inventory(restore(admin, made["uuid"], infra.pool["uuid"]))
    assert made["snapshotUuid"] == taken["uuid"]
    assert same_image(snap_path, restored["installPath"])
    assert not same_image(vol["installPath"], restored["installPath"])


def test_incremental_stores_only_what_changed(admin: Client, infra: Infra) -> None:
    # Given a full backup of a snapshot of a volume holding 96 MiB (24 chunks)
    assert infra.backup_storage is not None
    bs = infra.backup_storage["uuid"]
    vol = data_volume(admin, infra, 96 * MiB, [(0, 96 * MiB)], seed=3)
    first = snapshot(admin, vol["uuid"])
    full = inventory(backup(admin, vol["uuid"], bs, snapshotUuid=first["uuid"]))
    # When 1 MiB (about 1%) changes and an incremental backup of a new snapshot is made
    write(vol["installPath"], 0x77, 50 * MiB, MiB)
    second = snapshot(admin, vol["uuid"])
    inc = inventory(backup(admin, vol["uuid"], bs, snapshotUuid=second["uuid"], mode="incremental"))
    # Then it stores one new chunk, read only the changed chunk, and both restore
    assert full["chunkCount"] == full["newChunkCount"] == 24
    assert inc["mode"] == "incremental" and inc["parentUuid"] == full["uuid"]
    assert inc["chunkCount"] == 24 and inc["newChunkCount"] == 1
    assert inc["readBytes"] <= 4 * MiB and inc["storedBytes"] < full["storedBytes"] / 10
    new = inventory(restore(admin, inc["uuid"], infra.pool["uuid"]))
    old = inventory(restore(admin, full["uuid"], infra.pool["uuid"]))
    assert same_image(second["primaryStorageInstallPath"], new["installPath"])
    assert same_image(first["primaryStorageInstallPath"], old["installPath"])
    assert not same_image(new["installPath"], old["installPath"])


def test_deleting_middle_backups_keeps_later_ones_restorable(admin: Client, infra: Infra) -> None:
    assert infra.backup_storage is not None
    bs = infra.backup_storage["uuid"]
    vol = data_volume(admin, infra, 32 * MiB, [(0, 16 * MiB)], seed=4)
    made = []
    for index in range(4):
        write(vol["installPath"], 0x40 + index, (index % 2) * 20 * MiB, MiB)
        made.append(inventory(backup(admin, vol["uuid"], bs, mode="incremental")))
    images = []
    for index in (1, 2):
        assert admin.call("DELETE", f"/v1/volume-backups/{made[index]['uuid']}").status_code == 200
    assert admin.get(f"/v1/volume-backups/{made[1]['uuid']}").status_code == 404
    for kept in (made[0], made[3]):
        images.append(inventory(restore(admin, kept["uuid"], infra.pool["uuid"]))["installPath"])
    assert same_image(vol["installPath"], images[1])
    assert not same_image(images[0], images[1])


def test_a_corrupt_chunk_fails_the_restore_with_nothing_left(admin: Client, infra: Infra) -> None:
    assert infra.backup_storage is not None
    vol = data_volume(admin, infra, 16 * MiB, [(0, 8 * MiB)], seed=5)
    made = inventory(backup(admin, vol["uuid"], infra.backup_storage["uuid"]))
    manifest = store_dir(infra) / "manifests" / f"{made['uuid']}.json"
    digest = manifest.read_text().split('"chunks":[[')[1].split('"')[1]
    chunk = store_dir(infra) / "chunks" / digest[:2] / digest
    original = chunk.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    chunk.write_bytes(bytes(damaged))
    new_uuid = job_uuid()
    try:
        failed = restore(admin, made["uuid"], infra.pool["uuid"], resourceUuid=new_uuid)
    finally:
        chunk.write_bytes(original)  # other tests share chunks of the same store
    assert error_code(failed) == "VOLPLANE.STORAGE.1006"
    assert digest in failed.json()["error"]["details"]
    assert admin.get(f"/v1/volumes/{new_uuid}").status_code == 404
    assert not [f for f in pool_files(infra.pool["mountPath"]) if new_uuid in f]


def test_cancel_during_a_backup_removes_it(admin: Client, infra: Infra) -> None:
    assert infra.backup_storage is not None
    vol = data_volume(admin, infra, 192 * MiB, [(0, 192 * MiB)], seed=6)
    new_uuid = job_uuid()
    accepted = admin.request(
        "POST",
        f"/v1/volumes/{vol['uuid']}/volume-backups",
        json={
            "params": {
                "backupStorageUuid": infra.backup_storage["uuid"],
                "name": new_name(),
                "resourceUuid": new_uuid,
            }
        },
    )
    assert accepted.status_code == 202, accepted.text
    started = wait_until(
        lambda: admin.get(f"/v1/volume-backups/{new_uuid}").status_code == 200, timeout=60
    )
    seen = admin.get(f"/v1/volume-backups/{new_uuid}").json()["inventories"]
    cancel = admin.request(
        "PUT", f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}/actions", json={"cancelApiJob": {}}
    )
    ended = admin.wait(accepted.json()["location"], timeout=120)
    if ended.status_code == 200:  # done before the cancel reached it
        assert cancel.status_code in (200, 409)
        return
    assert started and seen and seen[0]["status"] in ("BackupStarted", "Ready")
    assert error_code(ended) == "VOLPLANE.JOB.1003"
    assert admin.get(f"/v1/volume-backups/{new_uuid}").status_code == 404
    assert not (store_dir(infra) / "manifests" / f"{new_uuid}.json").exists()
    assert not list((store_dir(infra) / "pins").iterdir())


def test_storage_usage_is_what_is_stored_after_dedup_and_compression(
    admin: Client, infra: Infra
) -> None:
    assert infra.backup_storage is not None
    bs = infra.backup_storage["uuid"]
    vol = data_volume(admin, infra, 16 * MiB, [(0, 8 * MiB)], seed=7)
    write(vol["installPath"], 0x00 + 0x33, 12 * MiB, 4 * MiB)  # compresses to almost nothing
    first = inventory(backup(admin, vol["uuid"], bs, description="usage-1"))
    second = inventory(backup(admin, vol["uuid"], bs, description="usage-2"))
    assert second["newChunkCount"] == 0 and second["storedBytes"] == 0
    assert first["storedBytes"] < first["dataSize"]
    on_disk = sum(p.stat().st_size for p in (store_dir(infra) / "chunks").rglob("*") if p.is_file())
    on_disk += sum(p.stat().st_size for p in (store_dir(infra) / "manifests").iterdir())
    storage = admin.get(f"/v1/backup-storage/{bs}").json()["inventories"][0]
    assert storage["usedCapacity"] == on_disk
    by_description = admin.get("/v1/volume-backups", params={"q": "description~=usage-%"})
    assert {b["uuid"] for b in by_description.json()["inventories"]} == {
        first["uuid"],
        second["uuid"],
    }
    since = admin.get(
        "/v1/volume-backups",
        params={"q": [f"createDate>={second['createDate']}", f"volumeUuid={vol['uuid']}"]},
    )
    assert [b["uuid"] for b in since.json()["inventories"]] == [second["uuid"]]


def test_a_volume_on_another_host_streams_its_backup_to_the_storage_host(
    admin: Client, infra: Infra, remote_pool: dict[str, Any]
) -> None:
    assert infra.backup_storage is not None
    backing = template(remote_pool, 24 * MiB, [(MiB, 5 * MiB)], seed=8)
    vol = volume(admin, remote_pool["uuid"], 24 * MiB, backingFile=backing)
    made = inventory(backup(admin, vol["uuid"], infra.backup_storage["uuid"]))
    restored = inventory(restore(admin, made["uuid"], infra.pool["uuid"]))
    assert made["chunkCount"] == 2 and made["newChunkCount"] == 2
    assert same_image(vol["installPath"], restored["installPath"])
