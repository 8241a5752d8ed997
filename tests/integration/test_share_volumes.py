"""The share-storage dialect's volume endpoints (seed 001), as one flow and as refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.agents import running_agent
from tests.share import (
    World,
    account_uuid,
    data,
    failed,
    finished,
    get,
    post,
    refused,
    world,
)
from tests.stack import Client, Stack, new_name
from tests.storage import MiB, holds, write


def _volume(client: Client, w: World, tenant: str, uuid: str) -> dict[str, Any]:
    got = post(
        client,
        "/v1/volume/share/get",
        {"tenant": tenant, "volume_uuid": uuid, "cluster_uuid": w.cluster_uuid},
    )
    return dict(data(got)["volume"])


def _path(volume: dict[str, Any], w: World) -> str:
    return str(volume["AccessPath"][w.host["uuid"]])


def test_full_flow_through_the_share_dialect(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    tenant = account_uuid(admin)
    with running_agent(tmp_path / "agent") as agent:
        # Given a cluster, a host and a pool
        w = world(admin, agent, tmp_path)
        ref = {"tenant": tenant, "cluster_uuid": w.cluster_uuid}

        # When a volume is made and written
        answer = post(
            admin,
            "/v1/volume/share/create",
            {
                **ref,
                "pool_uuid": w.pool_uuid,
                "volume_name": "data",
                "volume_type": "block",
                "capacity": 16 * MiB,
                "snap_capacity": 64 * MiB,
            },
        )
        initial = data(answer)["volume"]
        assert initial["EventState"] == 1 and initial["Capacity"] == 16 * MiB
        finished(admin, answer)
        volume = _volume(admin, w, tenant, initial["UUID"])
        assert volume["EventState"] == 0 and volume["SnapCap"] == 64 * MiB
        assert volume["PoolUUID"] == w.pool_uuid and volume["Ctime"] > 0
        write(_path(volume, w), 0x11)
        vref = {**ref, "volume_uuid": volume["UUID"]}

        # and a snapshot of it is taken, then the volume is written again
        snap = post(admin, "/v1/volume/share/snapshot/create", {**vref, "snapshot_name": "s1"})
        snapshot = data(snap)["snapshot"]
        assert snapshot["Children"] == ["head"] and snapshot["Parent"] == ""
        finished(admin, snap)
        write(_path(volume, w), 0x22)
        listed = data(post(admin, "/v1/volume/share/snapshot/list", vref))["list"]
        assert [s["UUID"] for s in listed] == [snapshot["UUID"]]
        tree = data(post(admin, "/v1/volume/share/snapshot/tree/get", vref))["tree"]
        assert tree["Root"] == "s1" and tree["Parents"] == {"s1": "", "head": "s1"}
        assert tree["Children"] == {"": {"Children": ["s1"]}, "s1": {"Children": ["head"]}}

        # Then linked and full clones of the snapshot hold the snapshot's data
        clones = {}
        for linked in (True, False):
            clone = post(
                admin,
                "/v1/volume/share/clone",
                {
                    "cluster_uuid": w.cluster_uuid,
                    "volume_uuid": volume["UUID"],
                    "volume_name": "data",
                    "clone_dst_pool_uuid": w.pool_uuid,
                    "clone_dst_vol_name": f"clone-{linked}",
                    "clone_dst_vol_tenant": tenant,
                    "snapshot_uuid": snapshot["UUID"],
                    "is_link": linked,
                },
            )
            made = data(clone)
            assert made["clone_progress"] == 0 and made["volume"]["EventState"] == 1
            uuid = made["volume"]["UUID"]
            progress = data(
                get(admin, "/v1/volume/share/clone/progress", {**ref, "volume_uuid": uuid})
            )["clone_progress"]
            assert 0 <= progress <= 100
            finished(admin, clone)
            done = data(get(admin, "/v1/volume/share/clone/progress", {**ref, "volume_uuid": uuid}))
            assert done["clone_progress"] == 100
            clones[linked] = _volume(admin, w, tenant, uuid)
            assert holds(_path(clones[linked], w), 0x11)
        assert clones[True]["ParentSnapshot"] == snapshot["UUID"]
        assert clones[True]["Parent"] == volume["UUID"]
        assert clones[False]["ParentSnapshot"] == ""
        assert _volume(admin, w, tenant, volume["UUID"])["Children"] == [clones[True]["UUID"]]
        used = data(post(admin, "/v1/volume/share/snapshot/list", vref))["list"][0]
        assert used["Ref"] == 1 and used["Attr"] == {"LinkCloneUsed": "LinkCloneUsed"}

        # When the volume is backed up from its snapshot and restored
        storage = admin.call(
            "POST",
            "/v1/backup-storage/image-store",
            json={
                "params": {
                    "hostUuid": w.host["uuid"],
                    "url": str(tmp_path / "bs"),
                    "name": new_name("bs"),
                }
            },
        ).json()["inventory"]
        attached = admin.call("POST", f"/v1/zones/{w.zone_uuid}/backup-storage/{storage['uuid']}")
        assert attached.status_code == 200, attached.text
        backup_answer = post(
            admin,
            "/v1/volume/share/backup/add",
            {
                "cluster_uuid": w.cluster_uuid,
                "volume_uuid": volume["UUID"],
                "snapshot_uuid": snapshot["UUID"],
                "backup_name": "b1",
                "backup_point_uuid": storage["uuid"],
                "desc": "nightly",
            },
        )
        backup = data(backup_answer)["backup"]
        assert backup["Status"] == "BackupStarted" and backup["Snapshot"] == "s1"
        finished(admin, backup_answer)
        backups = data(
            get(
                admin,
                "/v1/volume/share/backup/list",
                {**ref, "filter_volume_uuid": volume["UUID"], "filter_desc": "night"},
            )
        )
        assert [b["UUID"] for b in backups["backup"]] == [backup["UUID"]]
        assert backups["backup"][0]["Status"] == "Ready"
        # Time windows are inclusive, in the whole seconds Ctime shows.
        ctime = backups["backup"][0]["Ctime"]
        by_volume = {**ref, "filter_volume_uuid": volume["UUID"]}
        for start, end, seen in ((ctime, ctime, True), (ctime - 5, ctime - 1, False)):
            window = {"filter_start_time": start, "filter_end_time": end}
            listed = data(get(admin, "/v1/volume/share/backup/list", {**by_volume, **window}))
            assert [b["UUID"] for b in listed["backup"] or []] == ([backup["UUID"]] if seen else [])
        restore = post(
            admin,
            "/v1/volume/share/backup/restore",
            {
                "backup_uuid": backup["UUID"],
                "new_volume_name": "restored",
                "new_pool_uuid": w.pool_uuid,
                "new_volume_tenant": tenant,
                "cluster_uuid": w.cluster_uuid,
            },
        )
        restored_uuid = data(restore)["volume"]["UUID"]
        finished(admin, restore)
        restored = _volume(admin, w, tenant, restored_uuid)
        assert holds(_path(restored, w), 0x11)

        # and the volume is rolled back to its snapshot
        finished(
            admin,
            post(
                admin,
                "/v1/volume/share/snapshot/rollback",
                {**vref, "snapshot_uuid": snapshot["UUID"]},
            ),
        )
        assert holds(_path(_volume(admin, w, tenant, volume["UUID"]), w), 0x11)

        # Then everything is deleted through the dialect
        for uuid in (clones[True]["UUID"], clones[False]["UUID"], restored_uuid):
            finished(
                admin,
                post(
                    admin,
                    "/v1/volume/share/delete",
                    {**ref, "volume_uuid": uuid, "volume_name": "x", "force": False},
                ),
            )
        finished(
            admin,
            post(
                admin,
                "/v1/volume/share/snapshot/delete",
                {**vref, "snapshot_uuid": snapshot["UUID"], "snapshot_name": "s1"},
            ),
        )
        finished(
            admin,
            post(
                admin,
                "/v1/volume/share/backup/delete",
                {**ref, "backup_uuid": backup["UUID"]},
            ),
        )
        finished(
            admin,
            post(admin, "/v1/volume/share/delete", {**vref, "volume_name": "data"}),
        )
        listed_volumes = data(post(admin, "/v1/volume/share/list", {**ref}))
        assert listed_volumes["TotalCount"] == 0 and listed_volumes["list"] == []


def test_volume_calls_refuse_bad_input_and_other_tenants(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    first = admin.create_account(new_name("t"))
    second = admin.create_account(new_name("t"))
    alice = production_stack.login(first["name"], "secret")
    bob = production_stack.login(second["name"], "secret")
    with running_agent(tmp_path / "agent") as agent:
        w = world(admin, agent, tmp_path)
        create = {
            "cluster_uuid": w.cluster_uuid,
            "tenant": first["uuid"],
            "pool_uuid": w.pool_uuid,
            "volume_name": "mine",
            "volume_type": "block",
            "capacity": MiB,
            "snap_capacity": 0,
        }
        # An admin may create for a tenant: the volume is the tenant's.
        made = post(admin, "/v1/volume/share/create", create)
        finished(admin, made)
        uuid = data(made)["volume"]["UUID"]
        ref = {"tenant": first["uuid"], "volume_uuid": uuid, "cluster_uuid": w.cluster_uuid}
        assert data(post(alice, "/v1/volume/share/get", ref))["tenant"] == first["uuid"]

        # Another tenant: naming the owner is refused, naming itself finds nothing.
        refused(post(bob, "/v1/volume/share/get", ref), 403)
        refused(post(bob, "/v1/volume/share/get", {**ref, "tenant": second["uuid"]}), 404)
        refused(
            post(
                bob,
                "/v1/volume/share/delete",
                {**ref, "tenant": second["uuid"], "volume_name": "mine"},
            ),
            404,
        )
        listed = data(post(bob, "/v1/volume/share/list", {**ref, "tenant": second["uuid"]}))
        assert listed["TotalCount"] == 0
        refused(post(bob, "/v1/volume/share/create", create), 403)

        # Missing, mistyped and unknown fields.
        missing = {k: v for k, v in create.items() if k != "snap_capacity"}
        body = refused(post(alice, "/v1/volume/share/create", missing), 400)
        assert "snap_capacity" in body["message"]
        refused(post(alice, "/v1/volume/share/create", {**create, "capacity": "big"}), 400)
        refused(post(alice, "/v1/volume/share/create", {**create, "volume_type": "tape"}), 400)
        refused(post(alice, "/v1/volume/share/create", {**create, "pool_uuid": "e" * 32}), 404)
        refused(post(alice, "/v1/volume/share/get", {**ref, "volume_uuid": "e" * 32}), 404)
        refused(post(alice, "/v1/volume/share/get", {**ref, "cluster_uuid": "e" * 32}), 404)
        refused(
            post(
                alice,
                "/v1/volume/share/snapshot/rollback",
                {**ref, "snapshot_uuid": "e" * 32},
            ),
            404,
        )
        refused(post(alice, "/v1/volume/share/get", {"tenant": first["uuid"]}), 400)
        bad_json = alice.request(
            "POST",
            "/v1/volume/share/get",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        refused(bad_json, 400)
        # A snapshot beyond the volume's snap_capacity (0 here) fails in its job.
        snap = {**ref, "snapshot_name": "s"}
        assert failed(alice, post(alice, "/v1/volume/share/snapshot/create", snap)) == (
            "VOLPLANE.STORAGE.1101"
        )
        # Headers are checked as in the ZStack dialect.
        refused(
            post(alice, "/v1/volume/share/snapshot/create", snap, headers={"X-Job-UUID": "no"}),
            400,
        )
        refused(
            post(
                alice,
                "/v1/volume/share/snapshot/create",
                snap,
                headers={"X-Web-Hook": "http://169.254.169.254/"},
            ),
            400,
        )
