"""Another tenant gets not-found and sees nothing: every resource, every dialect, every
action (CONTRACT §1; the one policy of ``volplane/tenancy.py``).

Tenant A owns a volume, a snapshot, a linked clone, a backup, a volume restored from it,
their jobs, and a pool open only to A (``availTenants``), all in a share-storage cluster
so that every dialect can name them. Tenant B then tries each action of each dialect on
each of them. Reads are checked against A's own view (A sees what B must not), and the
last test checks that none of B's attempts changed anything of A's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agents import AgentProcess
from tests.infra import add_backup_storage
from tests.share import World, add_local_pool, get, post, world
from tests.stack import Client, Stack, new_name
from tests.storage import MiB, inventory, snapshot

NOT_FOUND = {"VOLPLANE.RESOURCE.1001", "VOLPLANE.JOB.1000"}


@dataclass(frozen=True)
class Tenants:
    """Everything of A's that B tries to reach, and both tenants' clients."""

    admin: Client
    a: Client
    b: Client
    a_uuid: str
    b_uuid: str
    share: World
    open_pool: dict[str, Any]
    closed_pool: dict[str, Any]
    volume: dict[str, Any]
    snapshot: dict[str, Any]
    clone: dict[str, Any]
    backup: dict[str, Any]
    restore: dict[str, Any]
    job: str
    started_ms: int  # before A's first job: a Last-Event-ID that replays all of them

    def volumes(self) -> dict[str, dict[str, Any]]:
        return {"volume": self.volume, "clone": self.clone, "restore": self.restore}

    def secrets(self) -> list[str]:
        return [
            self.volume["uuid"],
            self.snapshot["uuid"],
            self.clone["uuid"],
            self.backup["uuid"],
            self.restore["uuid"],
            self.job,
            self.closed_pool["uuid"],
        ]


def _accepted_job(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    return str(response.json()["location"]).rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def t(
    production_stack: Stack, agent: AgentProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tenants]:
    started_ms = int(time.time() * 1000) - 1000
    admin = production_stack.login()
    names = new_name("ta"), new_name("tb")
    a_uuid, b_uuid = (admin.create_account(name, "p")["uuid"] for name in names)
    a, b = (production_stack.login(name, "p") for name in names)
    tmp = tmp_path_factory.mktemp("tenants")
    share = world(admin, agent, tmp)
    host = share.host["uuid"]
    closed_uuid = add_local_pool(
        admin, share.zone_uuid, share.cluster_uuid, host, tmp / "closed", avail_tenant=[a_uuid]
    )
    pool = admin.get(f"/v1/primary-storage/{share.pool_uuid}").json()["inventories"][0]
    closed = admin.get(f"/v1/primary-storage/{closed_uuid}").json()["inventories"][0]
    storage = add_backup_storage(admin, share.host, tmp / "bs")

    params = {"name": new_name("va"), "diskSize": 4 * MiB, "primaryStorageUuid": closed_uuid}
    created = a.request("POST", "/v1/volumes/data", json={"params": params})
    job = _accepted_job(created)
    vol = inventory(a.wait(created.json()["location"]))
    snap = snapshot(a, vol["uuid"])
    clone = inventory(
        a.call(
            "POST",
            f"/v1/volumes/data/from/volume-snapshots/{snap['uuid']}",
            json={"params": {"name": new_name("ca"), "linked": True}},
        )
    )
    backup = inventory(
        a.call(
            "POST",
            f"/v1/volumes/{vol['uuid']}/volume-backups",
            json={"params": {"name": new_name("ba"), "backupStorageUuid": storage["uuid"]}},
        )
    )
    restored = inventory(
        a.call(
            "POST",
            f"/v1/volumes/data/from/volume-backups/{backup['uuid']}",
            json={"params": {"name": new_name("ra"), "primaryStorageUuid": share.pool_uuid}},
        )
    )
    yield Tenants(
        admin,
        a,
        b,
        a_uuid,
        b_uuid,
        share,
        pool,
        closed,
        vol,
        snap,
        clone,
        backup,
        restored,
        job,
        started_ms,
    )


# --- what "not found" and "sees nothing" mean in each dialect ----------------------


def _code(response: httpx.Response) -> str:
    body = response.json()
    if "error" in body:  # ZStack
        return str(body["error"]["code"])
    if "desc" in body:  # share storage
        return str(body["desc"])
    if "itemNotFound" in body:  # Cinder
        return "VOLPLANE.RESOURCE.1001"
    return ""


def not_found(client: Client, response: httpx.Response) -> None:
    """Refused at once with a 404, or accepted and then failed as not found."""
    if response.status_code == 202:  # ZStack: an accepted job
        response = client.wait(response.json()["location"])
    elif response.status_code == 200 and "Location" in response.headers:  # share: a job
        response = client.wait(response.headers["Location"])
    assert response.status_code in (404, 503), response.text
    assert _code(response) in NOT_FOUND, response.text


def sees_nothing(t: Tenants, response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    for secret in t.secrets():
        assert secret not in response.text, response.text


def read(
    t: Tenants, call: Callable[[Client, str], httpx.Response], secret: str, *, empty: bool = False
) -> None:
    """B's read shows none of A's things (with ``empty``: nothing at all); the same read
    by A shows ``secret``."""
    mine = call(t.a, t.a_uuid)
    assert mine.status_code == 200 and secret in mine.text, mine.text
    theirs = call(t.b, t.b_uuid)
    sees_nothing(t, theirs)
    if empty:
        assert theirs.json()["inventories"] == [], theirs.text


def jobs_read(t: Tenants, params: dict[str, str]) -> None:
    """B's job listings hold B's own jobs only (those may quote A's uuids: B sent them);
    A's same listing holds A's job."""
    mine = t.a.get("/v1/api-jobs", params=params)
    assert t.job in [j["uuid"] for j in mine.json()["inventories"]], mine.text
    theirs = t.b.get("/v1/api-jobs", params=params)
    assert theirs.status_code == 200, theirs.text
    assert {j["accountUuid"] for j in theirs.json()["inventories"]} <= {t.b_uuid}, theirs.text


def zstack_action(
    method: str, path: Callable[[Tenants], str], body: Callable[[Tenants], Any] = lambda t: None
) -> Callable[[Tenants], None]:
    def attempt(t: Tenants) -> None:
        payload = body(t)
        kwargs = {} if payload is None else {"json": payload}
        not_found(t.b, t.b.request(method, path(t), **kwargs))

    return attempt


def share_action(
    method: str, path: str, body: Callable[[Tenants], dict[str, Any]]
) -> Callable[[Tenants], None]:
    def attempt(t: Tenants) -> None:
        payload = {"tenant": t.b_uuid, "cluster_uuid": t.share.cluster_uuid, **body(t)}
        send = post if method == "POST" else get
        not_found(t.b, send(t.b, path, payload))

    return attempt


def cinder_show(t: Tenants, uuid: str) -> None:
    headers = {"X-Auth-Token": t.b.session, "OpenStack-API-Version": "volume 3.8"}
    shown = t.b.http.get(f"{t.b.stack.url}/v3/{t.b_uuid}/volumes/{uuid}", headers=headers)
    assert shown.status_code == 404 and "itemNotFound" in shown.json(), shown.text
    for secret in t.secrets():
        assert secret not in shown.text.replace(uuid, "")
    # Naming A's project is refused before anything is looked up.
    other = t.b.http.get(f"{t.b.stack.url}/v3/{t.a_uuid}/volumes/{uuid}", headers=headers)
    assert other.status_code == 403 and uuid not in other.text, other.text


# --- the cases ---------------------------------------------------------------------

Case = Callable[[Tenants], None]
CASES: dict[str, Case] = {}


def volume_cases(kind: str) -> dict[str, Case]:
    """The cases for one of A's volumes (made empty, cloned, or restored)."""

    def u(t: Tenants) -> str:
        return str(t.volumes()[kind]["uuid"])

    return {
        f"zstack-{kind}-get": zstack_action("GET", lambda t: f"/v1/volumes/{u(t)}"),
        f"zstack-{kind}-list": lambda t: read(t, lambda c, _: c.get("/v1/volumes"), u(t)),
        f"zstack-{kind}-query-join": lambda t: read(
            t,
            lambda c, _: c.get("/v1/primary-storage", params={"q": f"volumes.uuid={u(t)}"}),
            _pool_of(t, u(t)),
            empty=True,
        ),
        f"zstack-{kind}-act": zstack_action(
            "PUT",
            lambda t: f"/v1/volumes/{u(t)}/actions",
            lambda t: {"updateVolume": {"name": "stolen"}},
        ),
        f"zstack-{kind}-resize": zstack_action(
            "PUT",
            lambda t: f"/v1/volumes/{u(t)}/actions",
            lambda t: {"resizeDataVolume": {"size": 64 * MiB}},
        ),
        f"zstack-{kind}-delete": zstack_action(
            "DELETE", lambda t: f"/v1/volumes/{u(t)}?force=true"
        ),
        f"zstack-{kind}-snapshot": zstack_action(
            "POST",
            lambda t: f"/v1/volumes/{u(t)}/volume-snapshots",
            lambda t: {"params": {"name": "stolen"}},
        ),
        f"zstack-{kind}-back-up": zstack_action(
            "POST",
            lambda t: f"/v1/volumes/{u(t)}/volume-backups",
            lambda t: {
                "params": {"name": "stolen", "backupStorageUuid": t.backup["backupStorageUuid"]}
            },
        ),
        f"zstack-{kind}-as-backing-file": zstack_action(
            "POST",
            lambda t: "/v1/volumes/data",
            lambda t: {"params": {"name": "stolen", "backingFile": _path_of(t, u(t))}},
        ),
        f"share-{kind}-get": share_action(
            "POST", "/v1/volume/share/get", lambda t: {"volume_uuid": u(t)}
        ),
        f"share-{kind}-list": lambda t: read(
            t,
            lambda c, me: post(
                c, "/v1/volume/share/list", {"tenant": me, "cluster_uuid": t.share.cluster_uuid}
            ),
            u(t),
        ),
        f"share-{kind}-delete": share_action(
            "POST",
            "/v1/volume/share/delete",
            lambda t: {"volume_uuid": u(t), "volume_name": "x", "force": True},
        ),
        f"share-{kind}-snapshot": share_action(
            "POST",
            "/v1/volume/share/snapshot/create",
            lambda t: {"volume_uuid": u(t), "snapshot_name": "stolen"},
        ),
        f"share-{kind}-snapshots": share_action(
            "POST", "/v1/volume/share/snapshot/list", lambda t: {"volume_uuid": u(t)}
        ),
        f"share-{kind}-clone-progress": share_action(
            "GET", "/v1/volume/share/clone/progress", lambda t: {"volume_uuid": u(t)}
        ),
        f"cinder-{kind}-show": lambda t: cinder_show(t, u(t)),
    }


for kind in ("volume", "clone", "restore"):
    CASES |= volume_cases(kind)


def _pool_of(t: Tenants, uuid: str) -> str:
    return str(next(v for v in t.volumes().values() if v["uuid"] == uuid)["primaryStorageUuid"])


def _path_of(t: Tenants, uuid: str) -> str:
    return str(next(v for v in t.volumes().values() if v["uuid"] == uuid)["installPath"])


def _snap(t: Tenants) -> str:
    return str(t.snapshot["uuid"])


def _share_snapshot_ref(t: Tenants) -> dict[str, Any]:
    return {"volume_uuid": t.volume["uuid"], "snapshot_uuid": _snap(t)}


CASES |= {
    "zstack-snapshot-get": zstack_action("GET", lambda t: f"/v1/volume-snapshots/{_snap(t)}"),
    "zstack-snapshot-list": lambda t: read(t, lambda c, _: c.get("/v1/volume-snapshots"), _snap(t)),
    "zstack-snapshot-query-join": lambda t: read(
        t,
        lambda c, _: c.get("/v1/volumes", params={"q": f"snapshots.uuid={_snap(t)}"}),
        t.volume["uuid"],
        empty=True,
    ),
    "zstack-snapshot-tree": zstack_action(
        "GET", lambda t: f"/v1/volume-snapshots/trees/{t.volume['uuid']}"
    ),
    "zstack-snapshot-act": zstack_action(
        "PUT",
        lambda t: f"/v1/volume-snapshots/{_snap(t)}/actions",
        lambda t: {"updateVolumeSnapshot": {"name": "stolen"}},
    ),
    "zstack-snapshot-revert": zstack_action(
        "PUT",
        lambda t: f"/v1/volume-snapshots/{_snap(t)}/actions",
        lambda t: {"revertVolumeFromSnapshot": {}},
    ),
    "zstack-snapshot-delete": zstack_action("DELETE", lambda t: f"/v1/volume-snapshots/{_snap(t)}"),
    "zstack-snapshot-linked-clone": zstack_action(
        "POST",
        lambda t: f"/v1/volumes/data/from/volume-snapshots/{_snap(t)}",
        lambda t: {"params": {"name": "stolen", "linked": True}},
    ),
    "zstack-snapshot-full-clone": zstack_action(
        "POST",
        lambda t: f"/v1/volumes/data/from/volume-snapshots/{_snap(t)}",
        lambda t: {
            "params": {"name": "stolen", "linked": False, "primaryStorageUuid": t.share.pool_uuid}
        },
    ),
    "zstack-snapshot-as-backing-file": zstack_action(
        "POST",
        lambda t: "/v1/volumes/data",
        lambda t: {
            "params": {"name": "stolen", "backingFile": t.snapshot["primaryStorageInstallPath"]}
        },
    ),
    "share-snapshot-as-backing-file": share_action(
        "POST",
        "/v1/volume/share/create",
        lambda t: {
            "pool_uuid": t.share.pool_uuid,
            "volume_name": "stolen",
            "volume_type": "block",
            "snap_capacity": MiB,
            "backing_file": t.snapshot["primaryStorageInstallPath"],
        },
    ),
    "share-snapshot-tree": share_action(
        "POST", "/v1/volume/share/snapshot/tree/get", lambda t: {"volume_uuid": t.volume["uuid"]}
    ),
    "share-snapshot-delete": share_action(
        "POST",
        "/v1/volume/share/snapshot/delete",
        lambda t: {**_share_snapshot_ref(t), "snapshot_name": "x"},
    ),
    "share-snapshot-rollback": share_action(
        "POST", "/v1/volume/share/snapshot/rollback", _share_snapshot_ref
    ),
    "share-snapshot-clone": share_action(
        "POST",
        "/v1/volume/share/clone",
        lambda t: {
            **_share_snapshot_ref(t),
            "volume_name": "x",
            "clone_dst_vol_name": "stolen",
            "clone_dst_vol_tenant": t.b_uuid,
            "clone_dst_pool_uuid": t.share.pool_uuid,
            "is_link": True,
        },
    ),
    "share-snapshot-back-up": share_action(
        "POST",
        "/v1/volume/share/backup/add",
        lambda t: {
            **_share_snapshot_ref(t),
            "backup_name": "stolen",
            "backup_point_uuid": t.backup["backupStorageUuid"],
        },
    ),
    "zstack-backup-get": zstack_action("GET", lambda t: f"/v1/volume-backups/{t.backup['uuid']}"),
    "zstack-backup-list": lambda t: read(
        t, lambda c, _: c.get("/v1/volume-backups"), t.backup["uuid"]
    ),
    "zstack-backup-query-join": lambda t: read(
        t,
        lambda c, _: c.get("/v1/volume-backups", params={"q": f"volume.name={t.volume['name']}"}),
        t.backup["uuid"],
    ),
    "zstack-backup-delete": zstack_action(
        "DELETE", lambda t: f"/v1/volume-backups/{t.backup['uuid']}"
    ),
    "zstack-backup-restore": zstack_action(
        "POST",
        lambda t: f"/v1/volumes/data/from/volume-backups/{t.backup['uuid']}",
        lambda t: {"params": {"name": "stolen", "primaryStorageUuid": t.share.pool_uuid}},
    ),
    "share-backup-list": lambda t: read(
        t,
        lambda c, me: get(
            c, "/v1/volume/share/backup/list", {"tenant": me, "cluster_uuid": t.share.cluster_uuid}
        ),
        t.backup["uuid"],
    ),
    "share-backup-delete": share_action(
        "POST", "/v1/volume/share/backup/delete", lambda t: {"backup_uuid": t.backup["uuid"]}
    ),
    "share-backup-restore": share_action(
        "POST",
        "/v1/volume/share/backup/restore",
        lambda t: {
            "backup_uuid": t.backup["uuid"],
            "new_volume_tenant": t.b_uuid,
            "new_volume_name": "stolen",
            "new_pool_uuid": t.share.pool_uuid,
        },
    ),
    "zstack-job-get": zstack_action("GET", lambda t: f"/v1/api-jobs/{t.job}"),
    "zstack-job-inventory": zstack_action("GET", lambda t: f"/v1/api-jobs/{t.job}/inventory"),
    "zstack-job-list": lambda t: jobs_read(t, {}),
    "zstack-job-query": lambda t: jobs_read(t, {"q": f"resourceUuid={t.volume['uuid']}"}),
    "zstack-job-query-by-account": lambda t: jobs_read(t, {"q": f"accountUuid={t.a_uuid}"}),
    "zstack-job-cancel": zstack_action(
        "PUT", lambda t: f"/v1/api-jobs/{t.job}/actions", lambda t: {"cancelApiJob": {}}
    ),
    "zstack-job-events": zstack_action("GET", lambda t: f"/v1/api-jobs/{t.job}/events"),
    "zstack-pool-get": zstack_action(
        "GET", lambda t: f"/v1/primary-storage/{t.closed_pool['uuid']}"
    ),
    "zstack-pool-list": lambda t: read(
        t, lambda c, _: c.get("/v1/primary-storage"), t.closed_pool["uuid"]
    ),
    "zstack-pool-query-join": lambda t: read(
        t,
        lambda c, _: c.get(
            "/v1/zones", params={"q": f"primaryStorage.name={t.closed_pool['name']}"}
        ),
        t.share.zone_uuid,
        empty=True,
    ),
    "zstack-pool-create-in": zstack_action(
        "POST",
        lambda t: "/v1/volumes/data",
        lambda t: {
            "params": {
                "name": "stolen",
                "diskSize": MiB,
                "primaryStorageUuid": t.closed_pool["uuid"],
            }
        },
    ),
    "zstack-pool-restore-into": zstack_action(
        "POST",
        lambda t: f"/v1/volumes/data/from/volume-backups/{t.backup['uuid']}",
        lambda t: {"params": {"name": "stolen", "primaryStorageUuid": t.closed_pool["uuid"]}},
    ),
    "share-pool-get": share_action(
        "POST", "/v1/pool/share/get", lambda t: {"pool_uuid": t.closed_pool["uuid"]}
    ),
    "share-pool-list": lambda t: read(
        t,
        lambda c, me: post(
            c, "/v1/pool/share/list", {"tenant": me, "cluster_uuid": t.share.cluster_uuid}
        ),
        t.closed_pool["uuid"],
    ),
    "share-pool-create-in": share_action(
        "POST",
        "/v1/volume/share/create",
        lambda t: {
            "pool_uuid": t.closed_pool["uuid"],
            "volume_name": "stolen",
            "volume_type": "block",
            "capacity": MiB,
            "snap_capacity": MiB,
        },
    ),
}


def _cluster_tenants(t: Tenants) -> None:
    """The share dialect's cluster names the tenants with volumes in it: B is not told A."""
    ref = {"cluster_uuid": t.share.cluster_uuid}
    mine = get(t.a, "/v1/cluster/get", ref)
    assert mine.status_code == 200 and t.a_uuid in mine.text, mine.text
    theirs = get(t.b, "/v1/cluster/get", ref)
    assert theirs.status_code == 200 and t.a_uuid not in theirs.text, theirs.text
    sees_nothing(t, theirs)


CASES["share-cluster-tenants"] = _cluster_tenants


@pytest.mark.parametrize("case", sorted(CASES))
def test_another_tenant_gets_not_found_and_sees_nothing(t: Tenants, case: str) -> None:
    CASES[case](t)


def test_naming_another_tenant_in_the_share_dialect_is_refused(t: Tenants) -> None:
    ref = {"tenant": t.a_uuid, "cluster_uuid": t.share.cluster_uuid}
    refused = post(t.b, "/v1/volume/share/get", {**ref, "volume_uuid": t.volume["uuid"]})
    assert refused.status_code == 403 and t.volume["name"] not in refused.text
    listed = post(t.b, "/v1/volume/share/list", ref)
    assert listed.status_code == 403


def test_after_every_attempt_a_still_has_everything_and_b_nothing(t: Tenants) -> None:
    for kind, made in t.volumes().items():
        now = t.a.get(f"/v1/volumes/{made['uuid']}").json()["inventories"][0]
        assert (now["name"], now["status"], now["size"]) == (
            made["name"],
            "Ready",
            made["size"],
        ), kind
    snap = t.a.get(f"/v1/volume-snapshots/{t.snapshot['uuid']}").json()["inventories"][0]
    assert snap["name"] == t.snapshot["name"]
    assert t.a.get(f"/v1/volume-backups/{t.backup['uuid']}").status_code == 200
    assert t.a.get(f"/v1/api-jobs/{t.job}").status_code == 200
    for path in ("/v1/volumes", "/v1/volume-snapshots", "/v1/volume-backups"):
        assert t.b.get(path).json()["inventories"] == [], path
    assert not [p for p in Path(t.closed_pool["mountPath"]).iterdir() if "stolen" in p.name]


def _streamed_jobs(client: Client, since_ms: int, until: str) -> list[dict[str, Any]]:
    """The jobs ``GET /v1/api-jobs/events`` replays from ``since_ms``, read until job
    ``until`` appears (a real signal, no waiting on time)."""
    seen: list[dict[str, Any]] = []
    headers = {**client.headers, "Last-Event-ID": str(since_ms)}
    url = f"{client.stack.url}/v1/api-jobs/events"
    with client.http.stream("GET", url, headers=headers, timeout=30) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[len("data: ") :]))
                if seen[-1]["uuid"] == until:
                    return seen
    raise AssertionError(f"the stream ended before job {until}")


def test_the_stream_of_all_jobs_shows_a_tenant_only_its_own(t: Tenants) -> None:
    marker = t.b.request("POST", "/v1/debug/sleep", json={"params": {"seconds": 0.01}})
    marker_uuid = _accepted_job(marker)
    t.b.wait(marker.json()["location"])
    theirs = _streamed_jobs(t.b, t.started_ms, until=marker_uuid)
    assert {job["accountUuid"] for job in theirs} == {t.b_uuid}
    assert t.job not in {job["uuid"] for job in theirs}
    # A's stream, replayed from the same moment, does hold A's job.
    assert _streamed_jobs(t.a, t.started_ms, until=t.job)[-1]["accountUuid"] == t.a_uuid
