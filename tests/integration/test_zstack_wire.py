"""ZStack's own SDK against volplane: each call sent exactly as the 3.x ``zssdk.py``
sends it (``tests/zstack_sdk.py``) and each reply read the way it reads it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.infra import Infra
from tests.stack import Stack, new_name
from tests.zstack_sdk import Reply, ZStackSdk

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


# --- replies and inventories as ZStack's -------------------------------------------


def test_reply_keys_and_type_names_are_zstacks(sdk: ZStackSdk, infra: Infra) -> None:
    types = sdk.call("GET", "/primary-storage/types").ok()
    assert "LocalStorage" in types["types"]
    strategies = sdk.call("GET", "/primary-storage/allocators/strategies").ok()
    assert strategies["strategies"]
    assert sdk.call("GET", "/backup-storage/types").ok()["types"] == ["ImageStoreBackupStorage"]
    capacity = sdk.call(
        "GET", "/primary-storage/capacities", None, {"primaryStorageUuids": infra.pool["uuid"]}
    ).ok()
    assert {"totalCapacity", "availableCapacity", "totalPhysicalCapacity"} <= set(capacity)
    local = sdk.query("/primary-storage", ["type=LocalStorage", f"uuid={infra.pool['uuid']}"])
    pool = local.ok()["inventories"][0]
    assert pool["type"] == "LocalStorage" and pool["poolType"] == "local-storage"
    assert set(pool) >= {
        "uuid", "zoneUuid", "name", "url", "totalCapacity", "availableCapacity",
        "totalPhysicalCapacity", "availablePhysicalCapacity", "systemUsedCapacity",
        "type", "state", "status", "mountPath", "createDate", "lastOpDate",
        "attachedClusterUuids",
    }  # fmt: skip
    assert sdk.query("/primary-storage", ["type=NFS", f"uuid={pool['uuid']}"]).ok() == {
        "inventories": []
    }
    assert sdk.query("/primary-storage", ["type?=NFS,LocalStorage", f"uuid={pool['uuid']}"]).ok()[
        "inventories"
    ]
    zone = sdk.query("/zones", [f"uuid={infra.zone['uuid']}"]).ok()["inventories"][0]
    assert zone["isDefault"] is False
    cluster = sdk.query("/clusters", [f"uuid={infra.cluster['uuid']}"]).ok()["inventories"][0]
    assert "architecture" in cluster


VOLUME_FIELDS = {
    "uuid", "name", "description", "primaryStorageUuid", "vmInstanceUuid",
    "diskOfferingUuid", "rootImageUuid", "installPath", "type", "format", "size",
    "actualSize", "deviceId", "state", "status", "createDate", "lastOpDate",
    "isShareable", "volumeQos", "lastDetachDate", "lastVmInstanceUuid", "lastAttachDate",
}  # fmt: skip
SNAPSHOT_FIELDS = {
    "uuid", "name", "description", "type", "volumeUuid", "treeUuid", "parentUuid",
    "primaryStorageUuid", "primaryStorageInstallPath", "volumeType", "format", "latest",
    "size", "state", "status", "createDate", "lastOpDate", "backupStorageRefs",
}  # fmt: skip


def test_volume_and_snapshot_inventories_carry_zstacks_fields(sdk: ZStackSdk, infra: Infra) -> None:
    params = {"name": new_name("v"), "diskSize": 16 * MiB, "primaryStorageUuid": infra.pool["uuid"]}
    volume = sdk.call("POST", "/volumes/data", "params", params).ok()["inventory"]
    assert set(volume) >= VOLUME_FIELDS
    assert volume["type"] == "Data" and volume["kind"] == "block"
    assert volume["vmInstanceUuid"] is None and volume["isShareable"] is False
    found = sdk.query("/volumes", ["type=Data", f"uuid={volume['uuid']}"]).ok()["inventories"]
    assert [v["uuid"] for v in found] == [volume["uuid"]]
    first = sdk.call(
        "POST", "/volumes/{volumeUuid}/volume-snapshots", "params",
        {"volumeUuid": volume["uuid"], "name": "s1"},
    ).ok()["inventory"]  # fmt: skip
    second = sdk.call(
        "POST", "/volumes/{volumeUuid}/volume-snapshots", "params",
        {"volumeUuid": volume["uuid"], "name": "s2"},
    ).ok()["inventory"]  # fmt: skip
    assert set(second) >= SNAPSHOT_FIELDS
    assert second["treeUuid"] == volume["uuid"] and second["volumeType"] == "Data"
    assert second["backupStorageRefs"] == []
    listed = sdk.query("/volume-snapshots", [f"volumeUuid={volume['uuid']}"]).ok()
    latest = {s["name"]: s["latest"] for s in listed["inventories"]}
    assert latest == {"s1": False, "s2": True}
    only = sdk.query("/volume-snapshots", ["latest=true", f"treeUuid={volume['uuid']}"]).ok()
    assert [s["uuid"] for s in only["inventories"]] == [second["uuid"]]
    trees = sdk.query("/volume-snapshots/trees", [f"volumeUuid={volume['uuid']}"]).ok()
    tree = trees["inventories"][0]
    assert tree["current"] is True and tree["status"] == "Completed"
    assert tree["tree"]["inventory"]["uuid"] == first["uuid"]
    assert tree["tree"]["children"][0]["inventory"]["uuid"] == second["uuid"]


# --- disk offerings ----------------------------------------------------------------


def test_disk_offerings_and_volumes_made_from_them(sdk: ZStackSdk, infra: Infra) -> None:
    offering = sdk.call(
        "POST", "/disk-offerings", "params",
        {"name": new_name("do"), "diskSize": 24 * MiB, "sortKey": 1},
    ).ok()["inventory"]  # fmt: skip
    assert offering["diskSize"] == 24 * MiB and offering["state"] == "Enabled"
    assert offering["type"] == "DefaultDiskOfferingType"
    uuid_ = offering["uuid"]
    renamed = sdk.call(
        "PUT", "/disk-offerings/{uuid}/actions", "updateDiskOffering",
        {"uuid": uuid_, "name": "renamed", "description": "d"},
    ).ok()["inventory"]  # fmt: skip
    assert renamed["name"] == "renamed" and renamed["description"] == "d"
    # ZStack 3.x's CreateDataVolume: an offering, no size.
    params = {"name": new_name("v"), "diskOfferingUuid": uuid_}
    volume = sdk.call(
        "POST", "/volumes/data", "params", {**params, "primaryStorageUuid": infra.pool["uuid"]}
    ).ok()["inventory"]
    assert volume["size"] == 24 * MiB and volume["diskOfferingUuid"] == uuid_
    # The Java SDK sends diskSize 0 beside the offering.
    java = sdk.call(
        "POST", "/volumes/data", "params",
        {"name": new_name("v"), "diskOfferingUuid": uuid_, "diskSize": 0},
    ).ok()["inventory"]  # fmt: skip
    assert java["size"] == 24 * MiB
    by_offering = sdk.query("/volumes", ["diskOffering.name=renamed", f"uuid={volume['uuid']}"])
    assert [v["uuid"] for v in by_offering.ok()["inventories"]] == [volume["uuid"]]
    assert sdk.call("POST", "/volumes/data", "params", {"name": "no-size"}).status == 400
    disabled = sdk.call(
        "PUT", "/disk-offerings/{uuid}/actions", "changeDiskOfferingState",
        {"uuid": uuid_, "stateEvent": "disable"},
    ).ok()["inventory"]  # fmt: skip
    assert disabled["state"] == "Disabled"
    refused = sdk.call("POST", "/volumes/data", "params", {"name": "x", "diskOfferingUuid": uuid_})
    assert refused.status == 503 and refused.error["code"] == "VOLPLANE.RESOURCE.1003"
    assert sdk.query("/disk-offerings", [f"uuid={uuid_}"], count=True).ok() == {"total": 1}
    assert sdk.call("DELETE", "/disk-offerings/{uuid}", None, {"uuid": uuid_}).ok() == {}
    assert sdk.query("/disk-offerings", [f"uuid={uuid_}"]).ok()["inventories"] == []
    kept = sdk.query("/volumes", [f"uuid={volume['uuid']}"]).ok()["inventories"][0]
    assert kept["diskOfferingUuid"] == uuid_


# --- the deletion policy -----------------------------------------------------------


def _volume(sdk: ZStackSdk, infra: Infra) -> dict:
    params = {"name": new_name("v"), "diskSize": 8 * MiB, "primaryStorageUuid": infra.pool["uuid"]}
    return dict(sdk.call("POST", "/volumes/data", "params", params).ok()["inventory"])


def _pool(sdk: ZStackSdk, infra: Infra) -> dict:
    return dict(
        sdk.query("/primary-storage", [f"uuid={infra.pool['uuid']}"]).ok()["inventories"][0]
    )


def _set(sdk: ZStackSdk, name: str, value: str) -> dict:
    reply = sdk.call(
        "PUT", "/global-configurations/{category}/{name}/actions", "updateGlobalConfig",
        {"category": "volume", "name": name, "value": value},
    )  # fmt: skip
    return dict(reply.ok()["inventory"])


@pytest.fixture
def policy(sdk: ZStackSdk) -> Iterator[Callable[[str, str], dict]]:
    """Changes volume.* global configs for one test, then puts the stack's back (the
    test stacks start with Direct, see tests/conftest.py)."""
    configs = sdk.query("/global-configurations", ["category=volume"]).ok()["inventories"]
    yield lambda name, value: _set(sdk, name, value)
    for config in configs:
        _set(sdk, config["name"], config["value"])


def test_deleted_volumes_are_kept_recoverable_under_zstacks_default_policy(
    sdk: ZStackSdk, infra: Infra, policy: Callable[[str, str], dict]
) -> None:
    configs = sdk.query("/global-configurations", ["category=volume"]).ok()["inventories"]
    assert {c["name"] for c in configs} == {"deletionPolicy", "expungePeriod"}
    assert policy("deletionPolicy", "Delay")["value"] == "Delay"
    volume = _volume(sdk, infra)
    allocated = _pool(sdk, infra)["allocatedCapacity"]
    assert sdk.call("DELETE", "/volumes/{uuid}", None, {"uuid": volume["uuid"]}).ok() == {}
    deleted = sdk.query("/volumes", [f"uuid={volume['uuid']}"]).ok()["inventories"][0]
    assert deleted["status"] == "Deleted"
    assert _pool(sdk, infra)["allocatedCapacity"] == allocated  # still holds its space
    assert Path(deleted["installPath"]).exists()
    refused = sdk.call(
        "PUT",
        "/volumes/{uuid}/actions",
        "resizeDataVolume",
        {"uuid": volume["uuid"], "size": 9 * MiB},
    )
    assert refused.status == 503
    recovered = sdk.call(
        "PUT", "/volumes/{uuid}/actions", "recoverDataVolume", {"uuid": volume["uuid"]}
    )
    assert recovered.ok()["inventory"]["status"] == "Ready"
    not_deleted = sdk.call(
        "PUT", "/volumes/{uuid}/actions", "expungeDataVolume", {"uuid": volume["uuid"]}
    )
    assert not_deleted.status == 503
    sdk.call("DELETE", "/volumes/{uuid}", None, {"uuid": volume["uuid"]}).ok()
    expunged = sdk.call(
        "PUT", "/volumes/{uuid}/actions", "expungeDataVolume", {"uuid": volume["uuid"]}
    )
    assert expunged.ok() == {}
    assert sdk.query("/volumes", [f"uuid={volume['uuid']}"]).ok()["inventories"] == []
    assert not Path(deleted["installPath"]).exists()
    assert _pool(sdk, infra)["allocatedCapacity"] == allocated - volume["size"]


def test_direct_and_never_policies(
    sdk: ZStackSdk, infra: Infra, policy: Callable[[str, str], dict]
) -> None:
    assert policy("deletionPolicy", "Direct")["value"] == "Direct"
    direct = _volume(sdk, infra)
    sdk.call("DELETE", "/volumes/{uuid}", None, {"uuid": direct["uuid"]}).ok()
    assert sdk.query("/volumes", [f"uuid={direct['uuid']}"]).ok()["inventories"] == []
    assert not Path(direct["installPath"]).exists()
    policy("deletionPolicy", "Never")
    never = _volume(sdk, infra)
    allocated = _pool(sdk, infra)["allocatedCapacity"]
    sdk.call("DELETE", "/volumes/{uuid}", None, {"uuid": never["uuid"]}).ok()
    assert sdk.query("/volumes", [f"uuid={never['uuid']}"]).ok()["inventories"] == []
    assert Path(never["installPath"]).exists()  # left in the pool, adoptable again
    assert _pool(sdk, infra)["allocatedCapacity"] == allocated - never["size"]
    bad = sdk.call(
        "PUT", "/global-configurations/{category}/{name}/actions", "updateGlobalConfig",
        {"category": "volume", "name": "deletionPolicy", "value": "Sometimes"},
    )  # fmt: skip
    assert bad.status == 400


def test_deleted_volumes_are_expunged_after_the_expunge_period(
    sdk: ZStackSdk, infra: Infra, policy: Callable[[str, str], dict]
) -> None:
    policy("deletionPolicy", "Delay")
    policy("expungePeriod", "1")
    volume = _volume(sdk, infra)
    sdk.call("DELETE", "/volumes/{uuid}", None, {"uuid": volume["uuid"]}).ok()
    deadline = time.monotonic() + 60
    while sdk.query("/volumes", [f"uuid={volume['uuid']}"]).ok()["inventories"]:
        assert time.monotonic() < deadline, "the Deleted volume was never expunged"
        time.sleep(0.5)
    assert not Path(volume["installPath"]).exists()
    jobs = sdk.query("/api-jobs", ["apiName=ExpungeDataVolume", f"resourceUuid={volume['uuid']}"])
    assert [j["state"] for j in jobs.ok()["inventories"]] == ["Succeeded"]


# --- dates compared as they are shown ----------------------------------------------


@pytest.mark.parametrize("path", ["/zones", "/volumes", "/api-jobs"])
def test_a_shown_date_finds_its_row_and_pages_without_repeats(
    sdk: ZStackSdk, infra: Infra, path: str
) -> None:
    made: list[str] = []
    for _ in range(3):
        params = {"name": new_name("t")}
        if path == "/volumes":
            params |= {"diskSize": 8 * MiB, "primaryStorageUuid": infra.pool["uuid"]}
        reply = sdk.call(
            "POST", "/volumes/data" if path == "/volumes" else "/zones", "params", params
        )
        made.append(
            reply.requests[0].headers["X-Job-UUID"]
            if path == "/api-jobs"
            else reply.ok()["inventory"]["uuid"]
        )
    ours = "uuid?=" + ",".join(made)
    rows = sdk.query(path, [ours], sort_by="createDate", sort_direction="asc").ok()["inventories"]
    assert [r["uuid"] for r in rows] == made
    first = rows[0]
    shown = first["createDate"]
    assert shown.endswith("Z") and len(shown.split(".")[1]) == 4  # milliseconds
    same = sdk.query(path, [f"createDate={shown}", ours]).ok()["inventories"]
    assert [r["uuid"] for r in same] == [first["uuid"]]
    at_most = sdk.query(path, [f"createDate<={shown}", ours]).ok()["inventories"]
    assert [r["uuid"] for r in at_most] == [first["uuid"]]
    later = sdk.query(path, [f"createDate>{shown}", ours]).ok()["inventories"]
    assert [r["uuid"] for r in later] == made[1:]
    # Keyset paging: each page starts after the last date seen.
    seen, last = [first["uuid"]], shown
    while page := sdk.query(
        path, [f"createDate>{last}", ours], sort_by="createDate", sort_direction="asc", limit=1
    ).ok()["inventories"]:
        seen.append(page[0]["uuid"])
        last = page[0]["createDate"]
    assert seen == made


# --- every other call, as the SDK sends it -----------------------------------------


def _inventory(reply: Reply) -> dict:
    return dict(reply.ok()["inventory"])


def test_infrastructure_calls_as_the_sdk_sends_them(
    sdk: ZStackSdk, infra: Infra, tmp_path: Path
) -> None:
    zone = infra.zone["uuid"]
    cluster = _inventory(
        sdk.call("POST", "/clusters", "params",
                 {"zoneUuid": zone, "name": new_name("c"), "hypervisorType": "KVM"},
                 system_tags=[], user_tags=["sdk"])
    )  # fmt: skip
    c = {"uuid": cluster["uuid"]}
    assert (
        _inventory(
            sdk.call("PUT", "/clusters/{uuid}/actions", "updateCluster", c | {"name": "c2"})
        )["name"]
        == "c2"
    )
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/clusters/{uuid}/actions",
                "changeClusterState",
                c | {"stateEvent": "disable"},
            )
        )["state"]
        == "Disabled"
    )
    assert sdk.query("/clusters", ["__userTag__=sdk", f"uuid={cluster['uuid']}"]).ok()[
        "inventories"
    ]
    assert sdk.call("DELETE", "/clusters/{uuid}", None, c | {"deleteMode": "Permissive"}).ok() == {}

    # A local pool lives on one host: it attaches to that host's cluster only.
    (tmp_path / "ps").mkdir()
    local = _inventory(
        sdk.call("POST", "/primary-storage/local-storage", "params",
                 {"name": new_name("ps"), "url": str(tmp_path / "ps"),
                  "hostUuid": infra.host["uuid"]})
    )  # fmt: skip
    ps = {"clusterUuid": infra.cluster["uuid"], "primaryStorageUuid": local["uuid"]}
    path = "/clusters/{clusterUuid}/primary-storage/{primaryStorageUuid}"
    detached = _inventory(sdk.call("DELETE", path, None, ps))
    assert infra.cluster["uuid"] not in detached["attachedClusterUuids"]
    attached = _inventory(sdk.call("POST", path, "params", ps))
    assert infra.cluster["uuid"] in attached["attachedClusterUuids"]
    assert sdk.call("DELETE", "/primary-storage/{uuid}", None, {"uuid": local["uuid"]}).ok() == {}

    host = {"uuid": infra.host["uuid"]}
    assert (
        _inventory(
            sdk.call("PUT", "/hosts/{uuid}/actions", "updateHost", host | {"description": "d"})
        )["description"]
        == "d"
    )
    assert (
        _inventory(
            sdk.call(
                "PUT", "/hosts/{uuid}/actions", "changeHostState", host | {"stateEvent": "enable"}
            )
        )["state"]
        == "Enabled"
    )
    assert (
        _inventory(sdk.call("PUT", "/hosts/{uuid}/actions", "reconnectHost", host))["uuid"]
        == host["uuid"]
    )
    assert sdk.query("/hosts", [f"uuid={host['uuid']}"], fields=["uuid", "name"]).ok()[
        "inventories"
    ][0].keys() == {"uuid", "name"}

    pool = {"uuid": infra.pool["uuid"]}
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/primary-storage/{uuid}/actions",
                "updatePrimaryStorage",
                pool | {"description": "p"},
            )
        )["description"]
        == "p"
    )
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/primary-storage/{uuid}/actions",
                "changePrimaryStorageState",
                pool | {"stateEvent": "disable"},
            )
        )["state"]
        == "Disabled"
    )
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/primary-storage/{uuid}/actions",
                "changePrimaryStorageState",
                pool | {"stateEvent": "enable"},
            )
        )["state"]
        == "Enabled"
    )
    assert (
        _inventory(
            sdk.call("PUT", "/primary-storage/{uuid}/actions", "reconnectPrimaryStorage", pool)
        )["status"]
        == "Connected"
    )

    storage = _inventory(
        sdk.call("POST", "/backup-storage/image-store", "params",
                 {"name": new_name("bs"), "url": str(tmp_path / "bs"),
                  "hostname": infra.host["managementIp"], "username": "root",
                  "password": "secret", "sshPort": 22})
    )  # fmt: skip
    assert storage["type"] == "ImageStoreBackupStorage"
    bs = {"zoneUuid": zone, "backupStorageUuid": storage["uuid"]}
    assert (
        zone
        in _inventory(
            sdk.call("POST", "/zones/{zoneUuid}/backup-storage/{backupStorageUuid}", "params", bs)
        )["attachedZoneUuids"]
    )
    s = {"uuid": storage["uuid"]}
    assert (
        _inventory(
            sdk.call(
                "PUT", "/backup-storage/{uuid}/actions", "updateBackupStorage", s | {"name": "bs2"}
            )
        )["name"]
        == "bs2"
    )
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/backup-storage/{uuid}/actions",
                "changeBackupStorageState",
                s | {"stateEvent": "disable"},
            )
        )["state"]
        == "Disabled"
    )
    assert (
        _inventory(sdk.call("PUT", "/backup-storage/{uuid}/actions", "reconnectBackupStorage", s))[
            "uuid"
        ]
        == storage["uuid"]
    )
    capacity = sdk.call(
        "GET", "/backup-storage/capacities", None, {"backupStorageUuids": storage["uuid"]}
    ).ok()
    assert capacity["totalCapacity"] > 0
    assert (
        zone
        not in _inventory(
            sdk.call("DELETE", "/zones/{zoneUuid}/backup-storage/{backupStorageUuid}", None, bs)
        )["attachedZoneUuids"]
    )
    assert sdk.call("DELETE", "/backup-storage/{uuid}", None, s).ok() == {}
    assert sdk.query("/backup-storage", [f"uuid={storage['uuid']}"]).ok()["inventories"] == []


def test_volume_and_snapshot_calls_as_the_sdk_sends_them(sdk: ZStackSdk, infra: Infra) -> None:
    volume = _volume(sdk, infra)
    v = {"uuid": volume["uuid"]}
    assert (
        _inventory(
            sdk.call("PUT", "/volumes/{uuid}/actions", "resizeDataVolume", v | {"size": 12 * MiB})
        )["size"]
        == 12 * MiB
    )
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/volumes/data/resize/{uuid}/actions",
                "resizeDataVolume",
                v | {"size": 16 * MiB},
            )
        )["size"]
        == 16 * MiB
    )
    assert (
        _inventory(
            sdk.call(
                "PUT", "/volumes/{uuid}/actions", "changeVolumeState", v | {"stateEvent": "disable"}
            )
        )["state"]
        == "Disabled"
    )
    assert (
        _inventory(
            sdk.call(
                "PUT", "/volumes/{uuid}/actions", "changeVolumeState", v | {"stateEvent": "enable"}
            )
        )["state"]
        == "Enabled"
    )
    assert (
        _inventory(sdk.call("PUT", "/volumes/{uuid}/actions", "syncVolumeSize", v))["actualSize"]
        > 0
    )
    snap = {"volumeUuid": volume["uuid"], "name": "s1", "description": "first"}
    first = _inventory(sdk.call("POST", "/volumes/{volumeUuid}/volume-snapshots", "params", snap))
    second = _inventory(
        sdk.call("POST", "/volumes/{volumeUuid}/volume-snapshots", "params", snap | {"name": "s2"})
    )
    s1 = {"uuid": first["uuid"]}
    assert (
        _inventory(
            sdk.call(
                "PUT",
                "/volume-snapshots/{uuid}/actions",
                "updateVolumeSnapshot",
                s1 | {"name": "one"},
            )
        )["name"]
        == "one"
    )
    reverted = sdk.call("PUT", "/volume-snapshots/{uuid}/actions", "revertVolumeFromSnapshot", s1)
    assert reverted.status == 200, reverted.error
    clone = _inventory(
        sdk.call("POST", "/volumes/data/from/volume-snapshots/{volumeSnapshotUuid}", "params",
                 {"volumeSnapshotUuid": second["uuid"], "name": new_name("c"), "linked": True})
    )  # fmt: skip
    assert clone["parentSnapshotUuid"] == second["uuid"]
    flat = _inventory(
        sdk.call("PUT", "/volumes/{uuid}/actions", "flattenVolume", {"uuid": clone["uuid"]})
    )
    assert flat["parentSnapshotUuid"] is None
    assert (
        sdk.call(
            "DELETE",
            "/volume-snapshots/{uuid}",
            None,
            {"uuid": second["uuid"], "deleteMode": "Permissive"},
        ).ok()
        == {}
    )
    assert [
        s["uuid"]
        for s in sdk.query("/volume-snapshots", [f"volumeUuid={volume['uuid']}"]).ok()[
            "inventories"
        ]
    ] == [first["uuid"]]


def test_account_calls_as_the_sdk_sends_them(sdk: ZStackSdk, production_stack: Stack) -> None:
    from volplane.passwords import sha512_hex

    name = new_name("acct")
    account = _inventory(
        sdk.call("POST", "/accounts", "params", {"name": name, "password": sha512_hex("pw")})
    )
    assert (
        sdk.query("/accounts", [f"name={name}"]).ok()["inventories"][0]["uuid"] == account["uuid"]
    )
    tenant = ZStackSdk(production_stack)
    tenant.login(name, sha512_hex("pw"))
    assert tenant.query("/accounts", []).ok()["inventories"][0]["uuid"] == account["uuid"]
    refused = tenant.call("POST", "/disk-offerings", "params", {"name": "x", "diskSize": MiB})
    assert refused.status == 403  # disk offerings are the admin's
    assert tenant.query("/disk-offerings", []).status == 200
