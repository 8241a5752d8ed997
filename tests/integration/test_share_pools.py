"""The share-storage dialect's pool endpoints (seed 000) against a live stack."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agents import running_agent
from tests.receiver import Receiver
from tests.share import (
    account_uuid,
    add_local_pool,
    data,
    finished,
    get,
    post,
    refused,
    world,
)
from tests.stack import Stack, new_name


def test_pool_lifecycle(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    tenant = account_uuid(admin)
    with running_agent(tmp_path / "agent") as agent:
        w = world(admin, agent, tmp_path)
        ref = {"tenant": tenant, "cluster_uuid": w.cluster_uuid, "pool_uuid": w.pool_uuid}

        got = data(post(admin, "/v1/pool/share/get", ref))
        pool = got["pool"]
        assert pool["UUID"] == w.pool_uuid and pool["Type"] == 7
        assert pool["MachineUUID"] == w.host["uuid"] and pool["AvailHosts"] == [w.host["uuid"]]
        assert pool["Source"] == str(w.pool_path) and pool["LimitHost"] is True
        assert pool["Capacity"] > 0 and pool["Status"] == "healthy"
        assert pool["Attr"] == {"overAllocationThreshold": "1.0"} and pool["Ctime"] > 0
        assert got["cluster_uuid"] == w.cluster_uuid and got["tenant"] == tenant

        listed = data(
            post(
                admin,
                "/v1/pool/share/list",
                {**ref, "filter_name": pool["Name"][3:], "page_num": 1, "page_size": 10},
            )
        )
        assert listed["TotalCount"] == 1 and listed["infos"][0]["pool"]["UUID"] == w.pool_uuid
        assert listed["each_range_list_state"][0]["total_count"] == 1
        nothing = data(post(admin, "/v1/pool/share/list", {**ref, "filter_name": "zzz-none"}))
        assert nothing["TotalCount"] == 0 and nothing["infos"] == []

        finished(
            admin,
            post(
                admin,
                "/v1/pool/share/set",
                {**ref, "pool_name": "renamed", "attr": {"overAllocationThreshold": "2.5"}},
            ),
        )
        pool = data(post(admin, "/v1/pool/share/get", ref))["pool"]
        assert pool["Name"] == "renamed" and pool["Attr"]["overAllocationThreshold"] == "2.5"

        finished(admin, post(admin, "/v1/pool/share/status/check", ref))
        types = data(
            get(admin, "/v1/pool/share/pool_type/support", {"cluster_uuid": w.cluster_uuid})
        )
        assert {"local", "smp"} <= set(types["PoolTypes"])
        host = admin.get(f"/v1/hosts/{w.host['uuid']}").json()["inventories"][0]
        expected = {"disk", "nfs", "samba"} & set(host["poolTypes"])
        assert expected <= set(types["PoolTypes"])
        devices = data(
            post(
                admin,
                "/v1/pool/share/fc_device/list",
                {"cluster_uuid": w.cluster_uuid, "zone_uuid": w.zone_uuid},
            )
        )["list"]
        seen = {d["disk_path"] for entries in devices.values() for d in entries}
        assert seen == {d["path"] for d in host["blockDevices"] if d["sizeBytes"]}

        finished(
            admin,
            post(admin, "/v1/pool/share/delete", {**ref, "pool_name": "renamed"}),
        )
        refused(post(admin, "/v1/pool/share/get", ref), 404)


def test_pool_open_to_some_tenants_only(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    first = admin.create_account(new_name("t"))
    second = admin.create_account(new_name("t"))
    alice = production_stack.login(first["name"], "secret")
    bob = production_stack.login(second["name"], "secret")
    with running_agent(tmp_path / "agent") as agent:
        w = world(admin, agent, tmp_path)
        private = add_local_pool(
            admin,
            w.zone_uuid,
            w.cluster_uuid,
            w.host["uuid"],
            tmp_path / "private",
            avail_tenant=[first["uuid"]],
        )
        for client, account, sees in ((alice, first, True), (bob, second, False)):
            listed = data(
                post(
                    client,
                    "/v1/pool/share/list",
                    {"tenant": account["uuid"], "cluster_uuid": w.cluster_uuid},
                )
            )
            uuids = {info["pool"]["UUID"] for info in listed["infos"]}
            assert (private in uuids) is sees and w.pool_uuid in uuids
        ref = {"cluster_uuid": w.cluster_uuid, "pool_uuid": private}
        refused(post(bob, "/v1/pool/share/get", {**ref, "tenant": second["uuid"]}), 404)
        refused(post(bob, "/v1/pool/share/get", {**ref, "tenant": first["uuid"]}), 403)
        # Pools are admin-managed.
        refused(
            post(
                alice, "/v1/pool/share/delete", {**ref, "tenant": first["uuid"], "pool_name": "x"}
            ),
            403,
        )


def test_pool_create_refusals_and_webhook(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent, Receiver() as receiver:
        w = world(admin, agent, tmp_path)
        base = {
            "cluster_uuid": w.cluster_uuid,
            "pool_name": new_name("sp"),
            "zone_uuid": w.zone_uuid,
            "ip": agent.host,
            "avail_host": [w.host["uuid"]],
            "attr": {},
        }
        for unsupported in (1, 5, 6):
            body = refused(
                post(admin, "/v1/pool/share/create", {**base, "pool_type": unsupported}), 400
            )
            assert body["desc"] == "VOLPLANE.STORAGE.1003"
        refused(post(admin, "/v1/pool/share/create", {**base, "pool_type": 99}), 400)
        refused(post(admin, "/v1/pool/share/create", {**base, "pool_type": "nfs"}), 400)
        no_attr = {k: v for k, v in base.items() if k != "attr"}
        refused(post(admin, "/v1/pool/share/create", {**no_attr, "pool_type": 7}), 400)
        refused(
            post(
                admin,
                "/v1/pool/share/create",
                {**base, "pool_type": 7, "source": "/x", "attr": {"overAllocationThreshold": "x"}},
            ),
            400,
        )
        refused(
            post(
                admin,
                "/v1/pool/share/create",
                {**base, "pool_type": 7, "source": "/x", "cluster_uuid": "d" * 32},
            ),
            404,
        )

        # X-Web-Hook is honoured: the job's result is pushed to it.
        path = tmp_path / "hooked"
        path.mkdir()
        answer = post(
            admin,
            "/v1/pool/share/create",
            {**base, "pool_type": 7, "source": str(path)},
            headers={"X-Web-Hook": receiver.url_for("/done")},
        )
        finished(admin, answer)
        [delivery] = receiver.wait_for(1, timeout=30)
        assert delivery.headers["x-job-uuid"] == answer.headers["X-Job-UUID"]
        pushed = json.loads(delivery.body)
        assert pushed["inventory"]["uuid"] == data(answer)["pool"]["UUID"]
