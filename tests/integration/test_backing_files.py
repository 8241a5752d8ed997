"""A backingFile names only what its caller may use, and what it builds on stays.

Tenant B naming A's snapshot image or A's live volume (directly, through a symbolic
link or a ``..`` path) gets not-found and nothing is left behind; A may build on its own
snapshot, which then cannot be deleted under the new volume; templates are shared.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from drivers import qcow2
from tests.infra import Infra
from tests.stack import Client, Stack, new_name
from tests.storage import MiB, error_code, holds, inventory, pool_files, snapshot, volume, write

NOT_FOUND = "VOLPLANE.RESOURCE.1001"


@pytest.fixture(scope="module")
def tenants(production_stack: Stack) -> tuple[Client, Client]:
    admin = production_stack.login()
    names = new_name("a"), new_name("b")
    for name in names:
        admin.create_account(name, "p")
    return production_stack.login(names[0], "p"), production_stack.login(names[1], "p")


def on_backing(client: Client, path: str, pool_uuid: str | None, **params: Any) -> httpx.Response:
    body: dict[str, Any] = {"name": new_name("b1"), "backingFile": path, **params}
    if pool_uuid is not None:
        body["primaryStorageUuid"] = pool_uuid
    return client.call("POST", "/v1/volumes/data", json={"params": body})


def volumes_named(client: Client, name: str) -> list[dict[str, Any]]:
    found = client.get("/v1/volumes", params={"q": f"name={name}"})
    assert found.status_code == 200, found.text
    return list(found.json()["inventories"])


def test_another_tenants_images_cannot_back_a_volume(
    admin: Client, infra: Infra, tenants: tuple[Client, Client]
) -> None:
    # Given tenant A's volume with data, and a snapshot of it
    tenant_a, tenant_b = tenants
    pool = infra.pool
    mine = volume(tenant_a, pool["uuid"], 8 * MiB)
    write(mine["installPath"], 0x5A)
    frozen = snapshot(tenant_a, mine["uuid"])
    snap_path = frozen["primaryStorageInstallPath"]
    root = Path(pool["mountPath"])
    link = root / f"innocent-{new_name()}.qcow2"
    os.symlink(snap_path, link)
    before = pool_files(root)

    # When tenant B names them as its backing file, in every way a path can reach them
    attempts = {
        "snapshot image": snap_path,
        "live volume": mine["installPath"],
        "symbolic link": str(link),
        "dot-dot": f"{root}/../{root.name}/{Path(snap_path).name}",
        "outside the pool": "/etc/passwd",
    }
    for what, path in attempts.items():
        name = new_name("b1")
        refused = on_backing(tenant_b, path, pool["uuid"], name=name)
        # Then each is not found, as if it did not exist, and nothing is recorded
        assert error_code(refused) == NOT_FOUND, (what, refused.text)
        assert volumes_named(admin, name) == [], what
        # Nor without naming the pool
        assert error_code(on_backing(tenant_b, path, None)) == NOT_FOUND, what
    assert pool_files(root) == before
    assert tenant_b.get("/v1/volumes").json()["inventories"] == []
    link.unlink()


def test_own_snapshot_backs_a_volume_that_keeps_it(
    infra: Infra, tenants: tuple[Client, Client]
) -> None:
    tenant_a, _ = tenants
    pool_uuid = infra.pool["uuid"]
    source = volume(tenant_a, pool_uuid, 8 * MiB)
    write(source["installPath"], 0x3C)
    frozen = snapshot(tenant_a, source["uuid"])

    # The owner's own live head is refused with a clear reason
    refused = on_backing(tenant_a, source["installPath"], pool_uuid)
    assert error_code(refused) == "VOLPLANE.ARG.1002"
    assert "take a snapshot" in refused.json()["error"]["details"]

    # Its snapshot image is fine, and the new volume depends on the snapshot
    built = inventory(on_backing(tenant_a, frozen["primaryStorageInstallPath"], None))
    assert built["parentSnapshotUuid"] == frozen["uuid"]
    assert built["primaryStorageUuid"] == pool_uuid and built["size"] == 8 * MiB
    assert holds(built["installPath"], 0x3C)

    # So the snapshot, and its volume, cannot vanish under it
    gone = tenant_a.call("DELETE", f"/v1/volume-snapshots/{frozen['uuid']}")
    assert error_code(gone) == "VOLPLANE.RESOURCE.1102"
    assert error_code(tenant_a.call("DELETE", f"/v1/volumes/{source['uuid']}")) == (
        "VOLPLANE.RESOURCE.1101"
    )
    assert Path(frozen["primaryStorageInstallPath"]).exists()

    # Once flattened, it depends on nothing and the snapshot may go
    flat = inventory(
        tenant_a.call("PUT", f"/v1/volumes/{built['uuid']}/actions", json={"flattenVolume": {}})
    )
    assert flat["parentSnapshotUuid"] is None and holds(flat["installPath"], 0x3C)
    assert tenant_a.call("DELETE", f"/v1/volume-snapshots/{frozen['uuid']}").status_code == 200


def test_a_template_is_shared_by_tenants_and_outlives_their_volumes(
    infra: Infra, tenants: tuple[Client, Client]
) -> None:
    template = Path(infra.pool["mountPath"]) / f"template-{new_name()}.qcow2"
    qcow2.create(template, size=4 * MiB)
    write(str(template), 0x77)
    made = [inventory(on_backing(tenant, str(template), None)) for tenant in tenants]
    for built in made:
        assert built["parentSnapshotUuid"] is None and holds(built["installPath"], 0x77)
    for tenant, built in zip(tenants, made, strict=True):
        assert tenant.call("DELETE", f"/v1/volumes/{built['uuid']}").status_code == 200
    assert template.exists()


def test_a_volume_whose_base_vanished_behind_volplanes_back_is_not_left_ready(
    admin: Client, infra: Infra
) -> None:
    template = Path(infra.pool["mountPath"]) / f"template-{new_name()}.qcow2"
    qcow2.create(template, size=4 * MiB)
    built = inventory(on_backing(admin, str(template), infra.pool["uuid"]))
    kept = template.with_suffix(".away")
    template.rename(kept)

    def sync() -> dict[str, Any]:
        path = f"/v1/volumes/{built['uuid']}/actions"
        return inventory(admin.call("PUT", path, json={"syncVolumeSize": {}}))

    assert sync()["status"] == "Error"
    kept.rename(template)
    assert sync()["status"] == "Ready"
    assert admin.call("DELETE", f"/v1/volumes/{built['uuid']}").status_code == 200


def test_adopting_an_image_built_on_a_snapshot_needs_an_owner_who_may_see_it(
    admin: Client, infra: Infra, tenants: tuple[Client, Client]
) -> None:
    # Given A's snapshot, and a file an operator built on its image
    tenant_a, tenant_b = tenants
    pool = infra.pool
    source = volume(tenant_a, pool["uuid"], 4 * MiB)
    write(source["installPath"], 0x42)
    frozen = snapshot(tenant_a, source["uuid"])
    name = f"built-{new_name()}.qcow2"
    qcow2.create_overlay(Path(pool["mountPath"]) / name, Path(frozen["primaryStorageInstallPath"]))
    b_uuid = tenant_b.get("/v1/accounts").json()["inventories"][0]["uuid"]
    a_uuid = frozen["accountUuid"]

    def manage(account: str) -> httpx.Response:
        params = {"primaryStorageUuid": pool["uuid"], "sourceName": name, "accountUuid": account}
        return admin.call("POST", "/v1/volumes/data/manage", json={"params": params})

    # Adopting it for B, or adopting A's snapshot image itself, is refused
    assert error_code(manage(b_uuid)) == "VOLPLANE.STORAGE.1301"
    snap_name = Path(frozen["primaryStorageInstallPath"]).name
    params = {"primaryStorageUuid": pool["uuid"], "sourceName": snap_name}
    taken = admin.call("POST", "/v1/volumes/data/manage", json={"params": params})
    assert error_code(taken) == "VOLPLANE.STORAGE.1301"

    # For A it is adopted, and depends on the snapshot, which then cannot go
    adopted = inventory(manage(a_uuid))
    assert adopted["accountUuid"] == a_uuid and adopted["parentSnapshotUuid"] == frozen["uuid"]
    assert holds(adopted["installPath"], 0x42)
    gone = tenant_a.call("DELETE", f"/v1/volume-snapshots/{frozen['uuid']}")
    assert error_code(gone) == "VOLPLANE.RESOURCE.1102"
