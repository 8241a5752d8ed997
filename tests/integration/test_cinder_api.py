"""The Cinder dialect (CONTRACT §9), driven by python-cinderclient as a real client and
by raw HTTP for the wire details, against the live stack and a real agent."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cinderclient import client as cinder_client
from cinderclient import exceptions as cinder_errors
from keystoneauth1 import session as ks_session
from keystoneauth1.token_endpoint import Token

from tests.infra import Infra
from tests.stack import Client, Stack, new_name
from tests.storage import MiB, holds, snapshot, write

pytestmark = pytest.mark.integration

GiB = 1 << 30


def project_of(client: Client) -> str:
    """The session's account: the Cinder project id."""
    response = client.get("/v1/accounts")
    assert response.status_code == 200, response.text
    names = {a["name"]: a["uuid"] for a in response.json()["inventories"]}
    return names["admin"]


def cinder(stack: Stack, client: Client, project_id: str, version: str = "3.8") -> Any:
    """python-cinderclient talking to the gateway: the token is the session, the
    endpoint is the project's /v3 root."""
    auth = Token(endpoint=f"{stack.url}/v3/{project_id}", token=client.session)
    return cinder_client.Client(version, session=ks_session.Session(auth=auth))


def raw(
    stack: Stack,
    client: Client,
    method: str,
    path: str,
    *,
    version: str | None = "3.8",
    **kwargs: Any,
) -> httpx.Response:
    headers = {"X-Auth-Token": client.session, **kwargs.pop("headers", {})}
    if version is not None:
        headers["OpenStack-API-Version"] = f"volume {version}"
    return httpx.request(method, f"{stack.url}{path}", headers=headers, timeout=60, **kwargs)


def host_of(infra: Infra) -> str:
    return f"{infra.host['name']}@{infra.pool['name']}"


def new_image(infra: Infra, size: int = 64 * MiB, pattern: int | None = None) -> str:
    name = f"{new_name('cin')}.qcow2"
    path = Path(infra.pool["mountPath"]) / name
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(size)],
        check=True,
        capture_output=True,
    )
    if pattern is not None:
        write(str(path), pattern)
    return name


def wait_status(api: Any, volume_id: str, wanted: set[str], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = api.volumes.get(volume_id)
        if found.status in wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def wait_gone(api: Any, volume_id: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.volumes.get(volume_id)
        except cinder_errors.NotFound:
            return True
        time.sleep(0.2)
    return False


def test_cinderclient_lists_manages_and_unmanages(
    production_stack: Stack, admin: Client, infra: Infra
) -> None:
    # Given an image in the pool, with known data
    name = new_image(infra, 64 * MiB, pattern=0xAB)
    path = Path(infra.pool["mountPath"]) / name
    api = cinder(production_stack, admin, project_of(admin))

    # When cinderclient lists the pool's manageable volumes
    listed = {
        item.reference["source-name"]: item
        for item in api.volumes.list_manageable(host=host_of(infra), detailed=True)
    }

    # Then the image is there, safe, sized in GiB
    entry = listed[name]
    assert entry.safe_to_manage is True and entry.reason_not_safe is None
    assert entry.cinder_id is None and entry.size == 1
    assert entry.extra_info["format"] == "qcow2"

    # When it is managed
    created = api.volumes.manage(host_of(infra), {"source-name": name}, name="adopted")
    assert created.status == "creating" and created.name == "adopted"
    ready = wait_status(api, created.id, {"available", "error"})

    # Then it is an available volume over the same file, data intact
    assert ready.status == "available" and ready.size == 1 and ready.name == "adopted"
    zstack = admin.get(f"/v1/volumes/{created.id}").json()["inventories"][0]
    assert zstack["installPath"] == str(path) and holds(str(path), 0xAB)
    relisted = api.volumes.list_manageable(host=host_of(infra), detailed=True)
    mine = next(i for i in relisted if i.reference["source-name"] == name)
    assert mine.safe_to_manage is False and mine.cinder_id == created.id
    assert mine.reason_not_safe == f"already managed by volume {created.id}"

    # When it is unmanaged
    api.volumes.unmanage(created)

    # Then the record goes, the file stays, and it is manageable again
    assert wait_gone(api, created.id)
    assert path.is_file() and holds(str(path), 0xAB)
    again = api.volumes.list_manageable(host=host_of(infra), detailed=True)
    assert next(i for i in again if i.reference["source-name"] == name).safe_to_manage


def test_listing_wire_format_sort_and_pagination(
    production_stack: Stack, admin: Client, infra: Infra
) -> None:
    small, large = new_image(infra, 64 * MiB), new_image(infra, GiB + 1)
    project = project_of(admin)
    base = f"/v3/{project}/manageable_volumes"

    summary = raw(production_stack, admin, "GET", base, params={"host": host_of(infra)})
    detail = raw(production_stack, admin, "GET", base + "/detail", params={"host": host_of(infra)})

    assert summary.status_code == 200 and detail.status_code == 200
    assert summary.headers["OpenStack-API-Version"] == "volume 3.8"
    entries = detail.json()["manageable-volumes"]
    assert all(
        set(e)
        == {"reference", "size", "safe_to_manage", "reason_not_safe", "cinder_id", "extra_info"}
        for e in entries
    )
    assert all(
        set(e) == {"reference", "size", "safe_to_manage"}
        for e in summary.json()["manageable-volumes"]
    )
    sizes = {e["reference"]["source-name"]: e["size"] for e in entries}
    assert sizes[small] == 1 and sizes[large] == 2

    # default order: reference descending
    names = [e["reference"]["source-name"] for e in entries]
    assert names == sorted(names, reverse=True)

    by_size = raw(
        production_stack,
        admin,
        "GET",
        base + "/detail",
        params={"host": host_of(infra), "sort": "size:asc,reference:asc"},
    ).json()["manageable-volumes"]
    keys = [(e["size"], e["reference"]["source-name"]) for e in by_size]
    assert keys == sorted(keys)

    first_two = raw(
        production_stack,
        admin,
        "GET",
        base,
        params={"host": host_of(infra), "sort": "reference:asc", "limit": "2"},
    ).json()["manageable-volumes"]
    after = raw(
        production_stack,
        admin,
        "GET",
        base,
        params={
            "host": host_of(infra),
            "sort": "reference:asc",
            "limit": "2",
            "marker": json.dumps(first_two[0]["reference"]),
        },
    ).json()["manageable-volumes"]
    skipped = raw(
        production_stack,
        admin,
        "GET",
        base,
        params={"host": host_of(infra), "sort": "reference:asc", "limit": "1", "offset": "1"},
    ).json()["manageable-volumes"]
    assert len(first_two) == 2 and after[0] == first_two[1] and skipped == [first_two[1]]

    by_uuid = raw(production_stack, admin, "GET", base, params={"host": infra.pool["uuid"]})
    cinder_style = raw(
        production_stack,
        admin,
        "GET",
        base,
        params={"host": f"{host_of(infra)}#{infra.pool['name']}"},
    )
    assert by_uuid.json() == summary.json() == cinder_style.json()

    bad_sort = raw(
        production_stack, admin, "GET", base, params={"host": host_of(infra), "sort": "name"}
    )
    bad_dir = raw(
        production_stack, admin, "GET", base, params={"host": host_of(infra), "sort": "size:up"}
    )
    assert bad_sort.status_code == 400 and "badRequest" in bad_sort.json()
    assert bad_dir.status_code == 400 and bad_dir.json()["badRequest"]["code"] == 400


def test_microversions(production_stack: Stack, admin: Client, infra: Infra) -> None:
    project = project_of(admin)
    params = {"host": host_of(infra)}

    old = raw(
        production_stack,
        admin,
        "GET",
        f"/v3/{project}/manageable_volumes",
        version="3.7",
        params=params,
    )
    none = raw(
        production_stack,
        admin,
        "GET",
        f"/v3/{project}/manageable_volumes",
        version=None,
        params=params,
    )
    legacy = raw(
        production_stack,
        admin,
        "GET",
        f"/v3/{project}/os-volume-manage",
        version=None,
        params=params,
    )
    garbled = raw(
        production_stack,
        admin,
        "GET",
        f"/v3/{project}/manageable_volumes",
        version="three",
        params=params,
    )
    too_new = raw(
        production_stack,
        admin,
        "GET",
        f"/v3/{project}/manageable_volumes",
        version="3.999",
        params=params,
    )

    assert old.status_code == 404 and old.json()["itemNotFound"]["code"] == 404
    assert none.status_code == 404
    assert legacy.status_code == 200 and "manageable-volumes" in legacy.json()
    assert garbled.status_code == 400 and "badRequest" in garbled.json()
    assert too_new.status_code == 406


def test_bad_manage_requests_get_cinder_errors(
    production_stack: Stack, admin: Client, infra: Infra
) -> None:
    project = project_of(admin)
    name = new_image(infra)
    path = f"/v3/{project}/manageable_volumes"
    ref = {"source-name": name}
    cases = [
        {"volume": {"host": host_of(infra), "cluster": "c@p", "ref": ref}},  # both
        {"volume": {"ref": ref}},  # neither
        {"volume": {"host": host_of(infra)}},  # no ref
        {"volume": {"host": host_of(infra), "ref": ref, "color": "blue"}},  # unknown key
        {"volume": {"host": host_of(infra), "ref": {"wwn": "x"}}},  # ref without a name
        {"volumes": {"host": host_of(infra), "ref": ref}},  # wrong envelope
        {"volume": {"host": host_of(infra), "ref": ref, "name": 7}},  # mistyped
    ]
    for body in cases:
        answer = raw(production_stack, admin, "POST", path, json=body, version="3.16")
        assert answer.status_code == 400, (body, answer.text)
        assert set(answer.json()) == {"badRequest"} and answer.json()["badRequest"]["code"] == 400

    cluster_too_early = raw(
        production_stack,
        admin,
        "POST",
        path,
        json={"volume": {"cluster": "c@p", "ref": ref}},
        version="3.15",
    )
    unknown_host = raw(
        production_stack,
        admin,
        "POST",
        path,
        json={"volume": {"host": "nohost@nopool", "ref": ref}},
    )
    not_json = raw(production_stack, admin, "POST", path, content=b"{nope")
    assert cluster_too_early.status_code == 400
    assert unknown_host.status_code == 404 and "itemNotFound" in unknown_host.json()
    assert not_json.status_code == 400 and "badRequest" in not_json.json()


def test_cluster_names_a_pool_too(production_stack: Stack, admin: Client, infra: Infra) -> None:
    api = cinder(production_stack, admin, project_of(admin), version="3.17")
    name = new_image(infra)
    cluster = f"{infra.cluster['name']}@{infra.pool['name']}"

    listed = api.volumes.list_manageable(host=None, cluster=cluster, detailed=False)
    created = api.volumes.manage(None, {"source-name": name}, cluster=cluster)

    assert name in {item.reference["source-name"] for item in listed}
    assert wait_status(api, created.id, {"available", "error"}).status == "available"


def test_an_unsafe_image_ends_in_error(
    production_stack: Stack, admin: Client, infra: Infra
) -> None:
    api = cinder(production_stack, admin, project_of(admin))
    corrupt = Path(infra.pool["mountPath"]) / f"{new_name('bad')}.qcow2"
    corrupt.write_bytes(b"QFI\xfb\x00\x00\x00\x03" + b"\xff" * 4096)

    created = api.volumes.manage(host_of(infra), {"source-name": corrupt.name})

    assert wait_status(api, created.id, {"available", "error"}).status == "error"


def test_unmanage_is_refused_while_the_volume_has_snapshots(
    production_stack: Stack, admin: Client, infra: Infra
) -> None:
    api = cinder(production_stack, admin, project_of(admin))
    created = api.volumes.manage(host_of(infra), {"source-name": new_image(infra)})
    assert wait_status(api, created.id, {"available", "error"}).status == "available"
    snapshot(admin, created.id)

    with pytest.raises(cinder_errors.BadRequest):
        api.volumes.unmanage(created)
    with pytest.raises(cinder_errors.NotFound):
        api.volumes.unmanage("f" * 32)
    unknown = raw(
        production_stack,
        admin,
        "POST",
        f"/v3/{project_of(admin)}/volumes/{created.id}/action",
        json={"os-frobnicate": None},
    )
    assert unknown.status_code == 400 and "badRequest" in unknown.json()


def test_projects_and_tokens(production_stack: Stack, admin: Client, infra: Infra) -> None:
    name = new_name("tenant")
    account = admin.create_account(name)
    tenant = production_stack.login(name, "secret")
    admin_project = project_of(admin)
    params = {"host": host_of(infra)}

    # a tenant naming another project is refused, in Cinder's shape
    other = raw(
        production_stack, tenant, "GET", f"/v3/{admin_project}/manageable_volumes", params=params
    )
    assert other.status_code == 403 and other.json()["forbidden"]["code"] == 403
    # in its own project, listing and managing are admin-only (Cinder's default policy)
    own = raw(
        production_stack, tenant, "GET", f"/v3/{account['uuid']}/manageable_volumes", params=params
    )
    assert own.status_code == 403 and "forbidden" in own.json()
    with pytest.raises(cinder_errors.Forbidden):
        cinder(production_stack, tenant, account["uuid"]).volumes.manage(
            host_of(infra), {"source-name": "x.qcow2"}
        )
    # a bad token is 401
    bad = httpx.get(
        f"{production_stack.url}/v3/{admin_project}/volumes/{'0' * 32}",
        headers={"X-Auth-Token": "0" * 32},
    )
    assert bad.status_code == 401 and "unauthorized" in bad.json()

    # an admin may adopt an image into the tenant's project; the tenant then sees it
    api = cinder(production_stack, admin, account["uuid"])
    created = api.volumes.manage(host_of(infra), {"source-name": new_image(infra)})
    assert wait_status(api, created.id, {"available", "error"}).status == "available"
    theirs = cinder(production_stack, tenant, account["uuid"]).volumes.get(created.id)
    assert theirs.status == "available"
    assert getattr(theirs, "os-vol-tenant-attr:tenant_id") == account["uuid"]
    admins = cinder(production_stack, admin, admin_project)
    own_volume = admins.volumes.manage(host_of(infra), {"source-name": new_image(infra)})
    assert wait_status(admins, own_volume.id, {"available", "error"}).status == "available"
    with pytest.raises(cinder_errors.NotFound):  # another account's volume does not exist
        cinder(production_stack, tenant, account["uuid"]).volumes.get(own_volume.id)
