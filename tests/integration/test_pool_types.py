"""One storage flow over every runnable pool type, against real storage servers.

The flow: a volume with data written as a guest would, snapshots, revert, a linked
clone flattened, a full clone, a merge of a deleted snapshot, a resize, a backup, an
incremental one, restores, capacity read from the storage, and nothing left on the
storage once everything is deleted. Data is checked inside the images with qemu-io,
through the same names the agents use (a local path, an ``nfs://`` URL, a file on the
agent's smbnetfs mount).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from schemas.zstack_wire import POOL_TYPE_NAMES
from tests.agents import AgentProcess, running_agent
from tests.infra import add_backup_storage, add_host, add_local_pool, create_cluster
from tests.integration.test_backups import backup, restore, same_image
from tests.netstore import NfsServer, SmbServer
from tests.share import data, finished, get, post
from tests.stack import Client, Stack, new_name
from tests.storage import (
    MiB,
    chain,
    clone,
    get_volume,
    holds,
    inventory,
    revert,
    snapshot,
    volume,
    write,
)


@dataclass
class PoolUnderTest:
    kind: str
    pool: dict[str, Any]
    host: dict[str, Any]
    backup_storage: dict[str, Any]
    stored: Callable[[], list[str]]  # the names on the storage itself
    statvfs: Callable[[], tuple[int, int]]  # (total, available) as the storage says


def _statvfs(path: Path) -> tuple[int, int]:
    found = os.statvfs(path)
    return found.f_blocks * found.f_frsize, found.f_bavail * found.f_frsize


def _files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def _zstack_pool(
    client: Client, kind: str, zone: str, cluster: str, url: str, **extra: Any
) -> dict[str, Any]:
    params = {"name": new_name("ps"), "zoneUuid": zone, "url": url, **extra}
    added = client.call("POST", f"/v1/primary-storage/{kind}", json={"params": params})
    uuid = inventory(added)["uuid"]
    return inventory(client.call("POST", f"/v1/clusters/{cluster}/primary-storage/{uuid}"))


def _pool_under_test(
    kind: str, client: Client, agent: AgentProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> PoolUnderTest:
    zone = client.create_zone()["uuid"]
    cluster = create_cluster(client, zone)["uuid"]
    host = add_host(client, agent, cluster_uuid=cluster)
    storage = add_backup_storage(client, host, tmp_path / "bs")
    if kind == "local-storage":
        path = tmp_path / "pool"
        pool = add_local_pool(client, host, path)
        return PoolUnderTest(
            kind, pool, host, storage, lambda: _files(path), lambda: _statvfs(path)
        )
    if kind == "nfs":
        server: NfsServer = request.getfixturevalue("nfs_server")
        pool = _zstack_pool(client, "nfs", zone, cluster, server.url)
        return PoolUnderTest(
            kind, pool, host, storage, server.files, lambda: _statvfs(server.directory)
        )
    if kind == "samba":
        smb: SmbServer = request.getfixturevalue("smb_server")
        pool = _zstack_pool(
            client, "samba", zone, cluster, smb.url,
            mountOptions=[f"username={smb.username}"], password=smb.password,
        )  # fmt: skip
        return PoolUnderTest(kind, pool, host, storage, smb.files, lambda: _statvfs(smb.directory))
    raise AssertionError(kind)


@pytest.fixture(params=["local-storage", "nfs", "samba"])
def pool_under_test(
    request: pytest.FixtureRequest, production_stack: Stack, tmp_path: Path
) -> Iterator[PoolUnderTest]:
    with running_agent(tmp_path / "agent") as agent:
        yield _pool_under_test(request.param, production_stack.login(), agent, tmp_path, request)


def _action(client: Client, path: str, action: str, **params: Any) -> dict[str, Any]:
    return inventory(client.call("PUT", f"{path}/actions", json={action: params}))


def test_storage_flow(production_stack: Stack, pool_under_test: PoolUnderTest) -> None:
    admin = production_stack.login()
    t = pool_under_test
    pool_uuid = t.pool["uuid"]
    # The pool is connected and its capacity is the storage's own
    assert t.pool["status"] == "Connected" and t.pool["type"] == POOL_TYPE_NAMES[t.kind]
    root = t.pool["mountPath"]
    total, _ = t.statvfs()
    assert t.pool["totalCapacity"] == total

    # A volume, written as a guest would
    vol = volume(admin, pool_uuid, 64 * MiB)
    head = vol["installPath"]
    assert head.startswith(root + "/")
    write(head, 0xAB)
    assert t.stored() == [head.rsplit("/", 1)[-1]]

    # Snapshots and a revert
    s1 = snapshot(admin, vol["uuid"])
    write(get_volume(admin, vol["uuid"])["installPath"], 0xCD)
    s2 = snapshot(admin, vol["uuid"])
    write(get_volume(admin, vol["uuid"])["installPath"], 0xEF)
    inventory(revert(admin, s1["uuid"]))
    assert holds(get_volume(admin, vol["uuid"])["installPath"], 0xAB)

    # A linked clone of s2, then flattened: its own data, no backing file
    linked = inventory(clone(admin, s2["uuid"], linked=True))
    assert holds(linked["installPath"], 0xCD)
    assert len(chain(linked["installPath"])) > 1
    _action(admin, f"/v1/volumes/{linked['uuid']}", "flattenVolume")
    assert chain(linked["installPath"]) == [linked["installPath"]]
    assert holds(linked["installPath"], 0xCD)

    # A full clone of s2
    full = inventory(clone(admin, s2["uuid"], linked=False, pool_uuid=pool_uuid))
    assert chain(full["installPath"]) == [full["installPath"]] and holds(full["installPath"], 0xCD)

    # Deleting s2 (a leaf), then s1 (under the head: merged), keeps what the volume reads
    assert admin.call("DELETE", f"/v1/volume-snapshots/{s2['uuid']}").status_code == 200
    assert admin.call("DELETE", f"/v1/volume-snapshots/{s1['uuid']}").status_code == 200
    assert holds(get_volume(admin, vol["uuid"])["installPath"], 0xAB)

    # Resize and sync size
    grown = _action(admin, f"/v1/volumes/{vol['uuid']}", "resizeDataVolume", size=128 * MiB)
    assert grown["size"] == 128 * MiB
    synced = _action(admin, f"/v1/volumes/{vol['uuid']}", "syncVolumeSize")
    assert synced["size"] == 128 * MiB

    # A backup, an incremental one, and restores into the pool
    bs = t.backup_storage["uuid"]
    write(get_volume(admin, vol["uuid"])["installPath"], 0x11, 8 * MiB)
    first = inventory(backup(admin, vol["uuid"], bs))
    write(get_volume(admin, vol["uuid"])["installPath"], 0x22, 16 * MiB)
    second = inventory(backup(admin, vol["uuid"], bs, mode="incremental"))
    assert second["parentUuid"] == first["uuid"]
    restored = inventory(restore(admin, second["uuid"], pool_uuid))
    assert restored["installPath"].startswith(root + "/")
    assert same_image(get_volume(admin, vol["uuid"])["installPath"], restored["installPath"])
    old = inventory(restore(admin, first["uuid"], pool_uuid))
    assert holds(old["installPath"], 0x11, 8 * MiB) and not holds(
        old["installPath"], 0x22, 16 * MiB
    )

    # Capacity: allocated is the volumes' virtual sizes, available the storage's
    synced_pool = _action(admin, f"/v1/primary-storage/{pool_uuid}", "syncPrimaryStorageCapacity")
    volumes = [vol, linked, full, restored, old]
    assert synced_pool["allocatedCapacity"] == sum(
        get_volume(admin, v["uuid"])["size"] for v in volumes
    )
    assert synced_pool["totalCapacity"] == t.statvfs()[0]

    # Deleting everything leaves nothing on the storage
    for v in reversed(volumes):
        gone = admin.call("DELETE", f"/v1/volumes/{v['uuid']}", params={"deleteMode": "Enforcing"})
        assert gone.status_code == 200, gone.text
    assert t.stored() == []


def test_nfs_pool_through_the_share_dialect(
    production_stack: Stack, nfs_server: NfsServer, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        zone = admin.create_zone()["uuid"]
        cluster = create_cluster(admin, zone)["uuid"]
        add_host(admin, agent, cluster_uuid=cluster)
        support = data(get(admin, "/v1/pool/share/pool_type/support", {"cluster_uuid": cluster}))
        assert "nfs" in support["PoolTypes"]
        body = {
            "cluster_uuid": cluster,
            "pool_name": new_name("sp"),
            "pool_type": 2,
            "zone_uuid": zone,
            "ip": nfs_server.address,
            "source": nfs_server.export,
            "attr": {"overAllocationThreshold": "1.0"},
        }
        answer = post(admin, "/v1/pool/share/create", body)
        finished(admin, answer)
        pool_uuid = answer.json()["data"]["pool"]["UUID"]
        pool = admin.get(f"/v1/primary-storage/{pool_uuid}").json()["inventories"][0]
        assert pool["status"] == "Connected" and pool["url"] == nfs_server.url
        assert pool["totalCapacity"] == _statvfs(nfs_server.directory)[0]
        vol = volume(admin, pool_uuid, 16 * MiB)
        write(vol["installPath"], 0x5A)
        assert holds(vol["installPath"], 0x5A)
        assert admin.call("DELETE", f"/v1/volumes/{vol['uuid']}").status_code == 200
        assert nfs_server.files() == []


def test_samba_pool_through_the_share_dialect(
    production_stack: Stack, smb_server: SmbServer, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        zone = admin.create_zone()["uuid"]
        cluster = create_cluster(admin, zone)["uuid"]
        add_host(admin, agent, cluster_uuid=cluster)
        support = data(get(admin, "/v1/pool/share/pool_type/support", {"cluster_uuid": cluster}))
        assert "samba" in support["PoolTypes"]
        body = {
            "cluster_uuid": cluster,
            "pool_name": new_name("sp"),
            "pool_type": 3,
            "zone_uuid": zone,
            "ip": smb_server.address,
            "source": smb_server.share,
            "username": smb_server.username,
            "password": smb_server.password,
            "attr": {"overAllocationThreshold": "1.0"},
        }
        answer = post(admin, "/v1/pool/share/create", body)
        finished(admin, answer)
        pool_uuid = answer.json()["data"]["pool"]["UUID"]
        pool = admin.get(f"/v1/primary-storage/{pool_uuid}").json()["inventories"][0]
        assert pool["status"] == "Connected" and pool["url"] == smb_server.url
        assert "password" not in pool and smb_server.password not in str(pool)
        assert pool["totalCapacity"] == _statvfs(smb_server.directory)[0]
        vol = volume(admin, pool_uuid, 16 * MiB)
        write(vol["installPath"], 0x5A)
        assert holds(vol["installPath"], 0x5A)
        assert admin.call("DELETE", f"/v1/volumes/{vol['uuid']}").status_code == 200
        assert smb_server.files() == []
