"""Helpers for tests of volumes, snapshots and clones: API calls and real image checks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.stack import Client, new_name

MiB = 1 << 20


def write(path: str, pattern: int, offset: int = 0, length: int = MiB) -> None:
    """Writes as a guest would, with qemu-io."""
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", f"write -P {pattern:#x} {offset} {length}", path],
        check=True,
        capture_output=True,
    )


def holds(path: str, pattern: int, offset: int = 0, length: int = MiB) -> bool:
    """True when the guest reads ``pattern`` there (qemu-io exits 1 on a mismatch)."""
    found = subprocess.run(
        [
            "qemu-io",
            "-f",
            "qcow2",
            "-r",
            "-U",
            "-c",
            f"read -P {pattern:#x} {offset} {length}",
            path,
        ],
        capture_output=True,
    )
    return found.returncode == 0


def chain(path: str) -> list[str]:
    """``qemu-img info --backing-chain``: the image, then its backing files."""
    out = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", "--backing-chain", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [item["filename"] for item in json.loads(out)]


def inventory(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json()["inventory"])


def error_code(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    return str(response.json()["error"]["code"])


def create_volume(
    client: Client, pool_uuid: str | None, size: int = 64 * MiB, **params: Any
) -> httpx.Response:
    body: dict[str, Any] = {"name": new_name("vol"), "diskSize": size, **params}
    if pool_uuid is not None:
        body["primaryStorageUuid"] = pool_uuid
    return client.call("POST", "/v1/volumes/data", json={"params": body})


def volume(
    client: Client, pool_uuid: str | None, size: int = 64 * MiB, **params: Any
) -> dict[str, Any]:
    return inventory(create_volume(client, pool_uuid, size, **params))


def snapshot(client: Client, volume_uuid: str, name: str | None = None) -> dict[str, Any]:
    return inventory(
        client.call(
            "POST",
            f"/v1/volumes/{volume_uuid}/volume-snapshots",
            json={"params": {"name": name or new_name("snap")}},
        )
    )


def get_volume(client: Client, uuid: str) -> dict[str, Any]:
    response = client.get(f"/v1/volumes/{uuid}")
    assert response.status_code == 200, response.text
    return dict(response.json()["inventories"][0])


def revert(client: Client, snapshot_uuid: str) -> httpx.Response:
    return client.call(
        "PUT",
        f"/v1/volume-snapshots/{snapshot_uuid}/actions",
        json={"revertVolumeFromSnapshot": {}},
    )


def clone(
    client: Client, snapshot_uuid: str, *, linked: bool, pool_uuid: str | None = None
) -> httpx.Response:
    params: dict[str, Any] = {"name": new_name("clone"), "linked": linked}
    if pool_uuid is not None:
        params["primaryStorageUuid"] = pool_uuid
    return client.call(
        "POST", f"/v1/volumes/data/from/volume-snapshots/{snapshot_uuid}", json={"params": params}
    )


def pool_files(pool_path: str | Path) -> list[str]:
    return sorted(p.name for p in Path(pool_path).iterdir())


def allocated_matches_volumes(client: Client, pool_uuid: str) -> bool:
    """The pool's allocatedCapacity equals the sum of its volumes' virtual sizes."""
    pool = client.get(f"/v1/primary-storage/{pool_uuid}").json()["inventories"][0]
    volumes = client.get("/v1/volumes", params={"q": f"primaryStorageUuid={pool_uuid}"})
    total = sum(v["size"] for v in volumes.json()["inventories"])
    return bool(pool["allocatedCapacity"] == total)
