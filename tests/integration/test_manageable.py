"""Adopting existing images through the ZStack dialect: real files in a real pool, a
real agent judging them, and the live stack managing and unmanaging them (CONTRACT §5)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers import qcow2
from tests.agents import running_agent
from tests.infra import Infra, infrastructure
from tests.stack import Client, Stack, new_name
from tests.storage import (
    MiB,
    allocated_matches_volumes,
    clone,
    error_code,
    holds,
    inventory,
    snapshot,
    volume,
    write,
)

pytestmark = pytest.mark.integration


def img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def write_raw(path: Path, pattern: int, offset: int = 0, length: int = MiB) -> None:
    subprocess.run(
        ["qemu-io", "-f", "raw", "-c", f"write -P {pattern:#x} {offset} {length}", str(path)],
        check=True,
        capture_output=True,
    )


def raw_holds(path: Path, pattern: int, offset: int = 0, length: int = MiB) -> bool:
    command = f"read -P {pattern:#x} {offset} {length}"
    found = subprocess.run(
        ["qemu-io", "-f", "raw", "-r", "-U", "-c", command, str(path)], capture_output=True
    )
    return found.returncode == 0


def listing(client: Client, pool_uuid: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/v1/primary-storage/{pool_uuid}/manageable-volumes")
    assert response.status_code == 200, response.text
    return {entry["sourceName"]: entry for entry in response.json()["inventories"]}


def codes(entry: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in entry["reasons"]]


def manage(client: Client, pool_uuid: str, source: str, **params: Any) -> Any:
    body = {"primaryStorageUuid": pool_uuid, "sourceName": source, **params}
    return client.call("POST", "/v1/volumes/data/manage", json={"params": body})


def unmanage(client: Client, volume_uuid: str) -> Any:
    return client.call("PUT", f"/v1/volumes/{volume_uuid}/actions", json={"unmanageVolume": {}})


@pytest.fixture
def writer_holding(tmp_path: Path) -> Iterator[Any]:
    """Starts processes that keep a file open for writing until the test ends."""
    started: list[subprocess.Popen[bytes]] = []

    def hold(path: Path) -> None:
        code = (
            "import sys, time\n"
            f"f = open({str(path)!r}, 'r+b')\n"
            "print('open', flush=True)\n"
            "time.sleep(600)\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == b"open\n"

    yield hold
    for proc in started:
        proc.kill()
        proc.wait()


def test_listing_judges_every_file_and_safe_ones_become_volumes(
    admin: Client, infra: Infra, tmp_path: Path, writer_holding: Any
) -> None:
    # Given a pool holding images of every kind
    pool_uuid = infra.pool["uuid"]
    root = Path(infra.pool["mountPath"])
    img("create", "-f", "qcow2", str(root / "plain.qcow2"), str(64 * MiB))
    write(str(root / "plain.qcow2"), 0xAB)
    img("create", "-f", "raw", str(root / "disk.raw"), str(32 * MiB))
    write_raw(root / "disk.raw", 0xCD)
    img("create", "-f", "qcow2", str(root / "base.qcow2"), str(64 * MiB))
    write(str(root / "base.qcow2"), 0x11)
    img(
        "create",
        "-f",
        "qcow2",
        "-b",
        str(root / "base.qcow2"),
        "-F",
        "qcow2",
        str(root / "top.qcow2"),
    )
    write(str(root / "top.qcow2"), 0x22, MiB)
    img("create", "-f", "qcow2", str(tmp_path / "outside.qcow2"), str(64 * MiB))
    img(
        "create",
        "-f",
        "qcow2",
        "-b",
        str(tmp_path / "outside.qcow2"),
        "-F",
        "qcow2",
        str(root / "leaky.qcow2"),
    )
    (root / "corrupt.qcow2").write_bytes(b"QFI\xfb\x00\x00\x00\x03" + b"\xff" * 4096)
    img("create", "-f", "vmdk", str(root / "other.vmdk"), str(16 * MiB))
    img("create", "-f", "qcow2", str(root / "busy.qcow2"), str(64 * MiB))
    writer_holding(root / "busy.qcow2")
    owned = volume(admin, pool_uuid, 64 * MiB)

    # When the pool is listed
    found = listing(admin, pool_uuid)

    # Then each file is judged with its reasons
    assert found["plain.qcow2"]["safeToManage"] and found["plain.qcow2"]["format"] == "qcow2"
    assert (
        found["plain.qcow2"]["size"] == 64 * MiB and found["plain.qcow2"]["reasonNotSafe"] is None
    )
    assert found["disk.raw"]["safeToManage"] and found["disk.raw"]["format"] == "raw"
    assert found["top.qcow2"]["safeToManage"]
    assert found["top.qcow2"]["backingFile"] == str(root / "base.qcow2")
    assert codes(found["base.qcow2"]) == ["backing-of-image"]
    assert "top.qcow2" in found["base.qcow2"]["reasonNotSafe"]
    assert codes(found["leaky.qcow2"]) == ["backing-outside-pool"]
    assert codes(found["corrupt.qcow2"]) == ["corrupt"]
    assert codes(found["other.vmdk"]) == ["unsupported-format"]
    assert codes(found["busy.qcow2"]) == ["in-use"]
    assert "python" in found["busy.qcow2"]["reasonNotSafe"]
    head = Path(owned["installPath"]).name
    assert codes(found[head]) == ["already-managed"]
    assert found[head]["volumeUuid"] == owned["uuid"]

    # And the safe ones are managed, in place, with their data
    plain = inventory(manage(admin, pool_uuid, "plain.qcow2", name="adopted-plain"))
    raw = inventory(manage(admin, pool_uuid, "disk.raw"))
    top = inventory(manage(admin, pool_uuid, "top.qcow2"))
    assert plain["installPath"] == str(root / "plain.qcow2") and plain["name"] == "adopted-plain"
    assert plain["size"] == 64 * MiB and plain["status"] == "Ready" and plain["format"] == "qcow2"
    assert plain["hostUuid"] == infra.host["uuid"] and plain["snapshotCapacity"] == 3 * 64 * MiB
    assert raw["name"] == "disk.raw" and raw["size"] == 32 * MiB
    assert holds(plain["installPath"], 0xAB)
    assert holds(raw["installPath"], 0xCD)  # the qcow2 head reads through to the raw image
    assert holds(top["installPath"], 0x11) and holds(top["installPath"], 0x22, MiB)
    assert allocated_matches_volumes(admin, pool_uuid)

    after = listing(admin, pool_uuid)
    assert after["plain.qcow2"]["volumeUuid"] == plain["uuid"]
    assert codes(after["disk.raw"]) == ["already-managed"]
    assert after["base.qcow2"]["volumeUuid"] == top["uuid"]  # the managed chain's base

    # And unsafe files, or files already managed, are refused by the job
    assert error_code(manage(admin, pool_uuid, "busy.qcow2")) == "VOLPLANE.STORAGE.1301"
    assert error_code(manage(admin, pool_uuid, "plain.qcow2")) == "VOLPLANE.STORAGE.1301"
    assert error_code(manage(admin, pool_uuid, "no-such.qcow2")) == "VOLPLANE.RESOURCE.1001"


def test_a_managed_volume_snapshots_and_unmanage_keeps_the_file(
    admin: Client, infra: Infra
) -> None:
    pool_uuid = infra.pool["uuid"]
    root = Path(infra.pool["mountPath"])
    name = f"{new_name('adopt')}.qcow2"
    img("create", "-f", "qcow2", str(root / name), str(64 * MiB))
    write(str(root / name), 0xAB)
    managed = inventory(manage(admin, pool_uuid, name))

    # A managed volume is a volume like any other: it snapshots, and then
    # refuses to be unmanaged while the snapshot exists
    taken = snapshot(admin, managed["uuid"])
    write(managed["installPath"], 0x5A, 2 * MiB)
    copy = inventory(clone(admin, taken["uuid"], linked=False))
    assert holds(copy["installPath"], 0xAB) and not holds(copy["installPath"], 0x5A, 2 * MiB)
    refused = unmanage(admin, managed["uuid"])
    assert error_code(refused) == "VOLPLANE.RESOURCE.1301"
    deleted = admin.call("DELETE", f"/v1/volume-snapshots/{taken['uuid']}")
    assert deleted.status_code == 200, deleted.text

    # When it is unmanaged, the file stays with all its data, and is manageable again
    gone = inventory(unmanage(admin, managed["uuid"]))
    assert gone["installPath"] == str(root / name)
    assert (root / name).is_file() and qcow2.info(root / name).backing_file is None
    assert holds(str(root / name), 0xAB) and holds(str(root / name), 0x5A, 2 * MiB)
    assert admin.get(f"/v1/volumes/{managed['uuid']}").status_code == 404
    assert listing(admin, pool_uuid)[name]["safeToManage"]
    assert allocated_matches_volumes(admin, pool_uuid)


def test_unmanaging_a_raw_adoption_writes_its_data_back_into_the_raw_file(
    admin: Client, infra: Infra
) -> None:
    pool_uuid = infra.pool["uuid"]
    root = Path(infra.pool["mountPath"])
    name = f"{new_name('raw')}.img"
    img("create", "-f", "raw", str(root / name), str(16 * MiB))
    write_raw(root / name, 0xCD)
    managed = inventory(manage(admin, pool_uuid, name))
    write(managed["installPath"], 0xEF, 4 * MiB)  # a guest writes while it is managed

    gone = inventory(unmanage(admin, managed["uuid"]))

    assert gone["installPath"] == str(root / name)
    assert not Path(managed["installPath"]).exists()
    assert raw_holds(root / name, 0xCD) and raw_holds(root / name, 0xEF, 4 * MiB)
    assert listing(admin, pool_uuid)[name]["safeToManage"]


def test_unmanaging_a_created_volume_renames_its_reserved_name(admin: Client, infra: Infra) -> None:
    created = volume(admin, infra.pool["uuid"], 16 * MiB)
    write(created["installPath"], 0x77)

    gone = inventory(unmanage(admin, created["uuid"]))

    kept = Path(gone["installPath"])
    assert kept.name == "unmanaged-" + Path(created["installPath"]).name
    assert kept.is_file() and not Path(created["installPath"]).exists() and holds(str(kept), 0x77)
    again = inventory(manage(admin, infra.pool["uuid"], kept.name))
    assert again["installPath"] == str(kept)


def test_only_admins_list_and_manage(production_stack: Stack, admin: Client, infra: Infra) -> None:
    name = new_name("tenant")
    admin.create_account(name)
    tenant = production_stack.login(name, "secret")

    listed = tenant.get(f"/v1/primary-storage/{infra.pool['uuid']}/manageable-volumes")
    submitted = tenant.request(
        "POST",
        "/v1/volumes/data/manage",
        json={"params": {"primaryStorageUuid": infra.pool["uuid"], "sourceName": "x.qcow2"}},
    )

    assert listed.status_code == 403 and listed.json()["error"]["code"] == "VOLPLANE.AUTH.1005"
    assert submitted.status_code == 403


def test_malformed_manage_requests_are_refused_at_once(admin: Client, infra: Infra) -> None:
    for params in (
        {"primaryStorageUuid": infra.pool["uuid"]},
        {"primaryStorageUuid": infra.pool["uuid"], "sourceName": "../etc/passwd"},
        {"primaryStorageUuid": infra.pool["uuid"], "sourceName": "/abs.qcow2"},
        {"primaryStorageUuid": infra.pool["uuid"], "sourceName": "a.qcow2", "bogus": 1},
    ):
        response = admin.request("POST", "/v1/volumes/data/manage", json={"params": params})
        assert response.status_code == 400, (params, response.text)


def test_a_managed_raw_image_backs_up_and_restores(admin: Client, tmp_path: Path) -> None:
    # Given a raw image adopted into a pool (on a host of its own) with backup storage
    with running_agent(tmp_path / "agent") as own_agent:
        _backs_up_and_restores(admin, infrastructure(admin, own_agent, tmp_path, backup=True))


def _backs_up_and_restores(admin: Client, infra: Infra) -> None:
    assert infra.backup_storage is not None
    root = Path(infra.pool["mountPath"])
    name = f"{new_name('adopt-raw')}.img"
    img("create", "-f", "raw", str(root / name), str(32 * MiB))
    write_raw(root / name, 0xC3, 4 * MiB)
    managed = inventory(manage(admin, infra.pool["uuid"], name))

    # When it is backed up and restored like any other volume
    body = {"backupStorageUuid": infra.backup_storage["uuid"], "name": new_name("bk")}
    made = admin.call(
        "POST", f"/v1/volumes/{managed['uuid']}/volume-backups", json={"params": body}
    )
    backup = inventory(made)
    restored = inventory(
        admin.call(
            "POST",
            f"/v1/volumes/data/from/volume-backups/{backup['uuid']}",
            json={"params": {"name": new_name("back"), "primaryStorageUuid": infra.pool["uuid"]}},
        )
    )

    # Then the restored volume holds the adopted image's data
    assert holds(restored["installPath"], 0xC3, 4 * MiB)
    assert not holds(restored["installPath"], 0xC3, 0)
