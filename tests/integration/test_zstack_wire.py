"""ZStack's own SDK against volplane: each call sent exactly as the 3.x ``zssdk.py``
sends it (``tests/zstack_sdk.py``) and each reply read the way it reads it."""

from __future__ import annotations

import uuid

import pytest

from tests.infra import Infra
from tests.stack import Stack, new_name
from tests.zstack_sdk import ZStackSdk

MiB = 1 << 20


@pytest.fixture
def sdk(production_stack: Stack) -> ZStackSdk:
    client = ZStackSdk(production_stack)
    client.login()
    return client


def _zone(sdk: ZStackSdk) -> dict:
    reply = sdk.call("POST", "/zones", "params", {"name": new_name("zone")})
    return dict(reply.ok()["inventory"])


def test_queries_ignore_the_session_id_and_keep_their_own_validation(sdk: ZStackSdk) -> None:
    zone = _zone(sdk)
    found = sdk.query("/zones", [f"uuid={zone['uuid']}"], reply_with_count=True)
    assert [z["uuid"] for z in found.ok()["inventories"]] == [zone["uuid"]]
    assert found.ok()["total"] == 1
    assert "sessionId=" in str(found.requests[0].url)
    counted = sdk.query("/zones", [f"uuid={zone['uuid']}"], count=True)
    assert counted.ok() == {"total": 1}
    for path in ("/primary-storage", "/volumes", "/volume-snapshots", "/volume-snapshots/trees"):
        assert sdk.query(path, ["uuid=" + "0" * 32]).ok()["inventories"] == [], path
    bad = sdk.query("/zones", ["nosuchfield=1"])
    assert bad.status == 400
    worse = sdk.query("/zones", limit=-1)
    assert worse.status == 400


def test_deletes_repeat_the_uuid_and_the_session_in_the_query(sdk: ZStackSdk) -> None:
    zone = _zone(sdk)
    reply = sdk.call(
        "DELETE", "/zones/{uuid}", None, {"uuid": zone["uuid"], "deleteMode": "Permissive"}
    )
    assert reply.ok() == {}
    url = str(reply.requests[0].url)
    assert f"uuid={zone['uuid']}" in url and "sessionId=" in url
    assert sdk.query("/zones", [f"uuid={zone['uuid']}"]).ok()["inventories"] == []


def test_a_different_uuid_in_the_query_than_in_the_path_is_refused(sdk: ZStackSdk) -> None:
    zone, other = _zone(sdk), _zone(sdk)
    url = sdk.url("/zones/{uuid}", zone) + f"?uuid={other['uuid']}&sessionId={sdk.session}"
    response = sdk.http.delete(url, headers={"Authorization": f"OAuth {sdk.session}"})
    assert response.status_code == 400, response.text
    assert sdk.query("/zones", [f"uuid?={zone['uuid']},{other['uuid']}"]).ok()["inventories"]


@pytest.mark.parametrize(
    "path",
    [
        "/zones/{uuid}",
        "/clusters/{uuid}",
        "/hosts/{uuid}",
        "/primary-storage/{uuid}",
        "/backup-storage/{uuid}",
        "/volumes/{uuid}",
        "/volume-snapshots/{uuid}",
        "/volume-backups/{uuid}",
    ],
)
def test_deleting_what_does_not_exist_succeeds(sdk: ZStackSdk, path: str) -> None:
    reply = sdk.call("DELETE", path, None, {"uuid": uuid.uuid4().hex})
    assert reply.status == 200 and reply.value == {}, reply.error


def test_path_parameters_repeated_in_bodies_are_accepted_when_equal(
    sdk: ZStackSdk, infra: Infra
) -> None:
    volume = sdk.call(
        "POST",
        "/volumes/data",
        "params",
        {"name": new_name("v"), "diskSize": 16 * MiB, "primaryStorageUuid": infra.pool["uuid"]},
        system_tags=[],
        user_tags=["wire"],
    ).ok()["inventory"]
    snapshot = sdk.call(
        "POST",
        "/volumes/{volumeUuid}/volume-snapshots",
        "params",
        {"volumeUuid": volume["uuid"], "name": new_name("s")},
    ).ok()["inventory"]
    clone = sdk.call(
        "POST",
        "/volumes/data/from/volume-snapshots/{volumeSnapshotUuid}",
        "params",
        {"volumeSnapshotUuid": snapshot["uuid"], "name": new_name("c")},
    )
    assert clone.ok()["inventory"]["uuid"]
    updated = sdk.call(
        "PUT",
        "/volumes/{uuid}/actions",
        "updateVolume",
        {"uuid": volume["uuid"], "name": "renamed"},
    )
    assert updated.ok()["inventory"]["name"] == "renamed"
    synced = sdk.call(
        "PUT",
        "/primary-storage/{primaryStorageUuid}/actions",
        "syncPrimaryStorageCapacity",
        {"primaryStorageUuid": infra.pool["uuid"]},
    )
    assert synced.ok()["inventory"]["uuid"] == infra.pool["uuid"]


def test_path_parameters_repeated_with_another_value_are_refused(
    sdk: ZStackSdk, infra: Infra
) -> None:
    other = uuid.uuid4().hex
    refused = [
        sdk.call(
            "POST",
            "/volumes/data/from/volume-snapshots/" + other,
            "params",
            {"volumeSnapshotUuid": uuid.uuid4().hex, "name": "c"},
        ),
        sdk.call("PUT", "/zones/" + other + "/actions", "updateZone", {"uuid": uuid.uuid4().hex}),
        sdk.call(
            "POST",
            f"/clusters/{other}/primary-storage/{infra.pool['uuid']}",
            "params",
            {"clusterUuid": uuid.uuid4().hex, "primaryStorageUuid": infra.pool["uuid"]},
        ),
    ]
    assert [r.status for r in refused] == [400, 400, 400]
    typo = sdk.call("PUT", "/zones/{uuid}/actions", "updateZone", {"uuid": other, "nmae": "x"})
    assert typo.status == 400


def test_sessions_as_the_sdk_uses_them(sdk: ZStackSdk, production_stack: Stack) -> None:
    session = sdk.session
    valid = sdk.call(
        "GET", "/accounts/sessions/{sessionUuid}/valid", None, {"sessionUuid": session}
    )
    assert valid.ok() == {"valid": True}
    renewed = sdk.call(
        "PUT",
        "/accounts/sessions/{sessionUuid}/renew",
        "renewSession",
        {"sessionUuid": session, "duration": 600},
    )
    inventory = renewed.ok()["inventory"]
    assert inventory["uuid"] == session and inventory["expiredDate"].endswith("Z")
    out = sdk.call("DELETE", "/accounts/sessions/{sessionUuid}", None, {"sessionUuid": session})
    assert out.ok() == {}
    gone = ZStackSdk(production_stack).call(
        "GET",
        "/accounts/sessions/{sessionUuid}/valid",
        None,
        {"sessionUuid": session},
        session=False,
    )
    assert gone.ok() == {"valid": False}


def test_a_uuid1_job_uuid_is_accepted(sdk: ZStackSdk) -> None:
    job = uuid.uuid1().hex
    reply = sdk.call("POST", "/zones", "params", {"name": new_name("z")}, job_uuid=job)
    assert reply.ok()["inventory"]["uuid"]
    assert reply.requests[0].headers["X-Job-UUID"] == job
    assert str(reply.requests[1].url).endswith(job)
