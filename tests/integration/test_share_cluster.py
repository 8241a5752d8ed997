"""The share-storage dialect's cluster endpoints (seed 003) against a live stack."""

from __future__ import annotations

from pathlib import Path

from tests.agents import running_agent
from tests.infra import add_host
from tests.share import account_uuid, add_cluster, data, failed, finished, get, post, refused, world
from tests.stack import Stack, new_name


def test_cluster_add_get_list_delete(production_stack: Stack) -> None:
    admin = production_stack.login()
    zone = admin.create_zone()["uuid"]
    name = new_name("sc")

    answer = post(
        admin,
        "/v1/cluster/add",
        {"ip": "10.0.0.7", "name": name, "desc": "first", "zone_uuid": zone},
    )
    added = data(answer)
    assert added["name"] == name and added["ip"] == "10.0.0.7" and added["desc"] == "first"
    assert answer.json()["status_code"] == 0 and answer.headers["X-Job-UUID"]
    finished(admin, answer)
    uuid = added["uuid"]

    got = data(get(admin, "/v1/cluster/get", {"cluster_uuid": uuid}))
    assert got["cluster_uuid"] == uuid and got["name"] == name and got["desc"] == "first"
    assert got["candidates"] == ["10.0.0.7"] and got["TopoHostNode"] == []

    listed = data(get(admin, "/v1/cluster/list", {"filter_name": name}))
    assert listed["total_count"] == 1
    assert listed["list"][0]["cluster_uuid"] == uuid and listed["list"][0]["ctime"] > 0
    dashed = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    assert data(get(admin, "/v1/cluster/get", {"cluster_uuid": dashed}))["name"] == name

    deleted = post(admin, "/v1/cluster/delete", {"cluster_uuid": uuid, "force": True})
    assert data(deleted) == {"uuid": uuid, "name": name}
    finished(admin, deleted)
    refused(get(admin, "/v1/cluster/get", {"cluster_uuid": uuid}), 404)


def test_cluster_topology_storage_and_host_progress(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        w = world(admin, agent, tmp_path)
        got = data(get(admin, "/v1/cluster/get", {"cluster_uuid": w.cluster_uuid}))
        node = got["TopoHostNode"][0]
        assert node["UUID"] == w.host["uuid"] and node["services"]["agentStatus"] == 1
        assert agent.host in got["candidates"]

        storage = data(
            get(admin, "/v1/cluster/system/service/storage", {"cluster_uuid": w.cluster_uuid})
        )
        assert storage["inner"]["pool_count"] == 1 and storage["inner"]["total_size"] > 0
        assert storage["inner"]["physic_host_total_count"] == 1
        assert storage["external"]["pool_count"] == 0

        progress = data(
            get(
                admin,
                "/v1/cluster/host/task/progress",
                {"cluster_uuid": w.cluster_uuid, "host_uuid": w.host["uuid"]},
            )
        )
        assert progress == {"progress": 1.0}


def test_inspection_checks_every_host(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "a1") as first, running_agent(tmp_path / "a2") as second:
        w = world(admin, first, tmp_path)
        other = add_host(admin, second, cluster_uuid=w.cluster_uuid)
        body = {"cluster_uuid": w.cluster_uuid, "cluster_name": "c"}

        started = post(admin, "/v1/cluster/inspection", body)
        assert data(started)["state"] == 0
        finished(admin, started)

        report = data(
            get(admin, "/v1/cluster/inspection/progress", {"cluster_uuid": w.cluster_uuid})
        )
        assert report["state"] == 2 and report["finishedPercent"] == 100
        assert report["status"]["UUID"] == started.headers["X-Job-UUID"]
        checked = {
            c["host_uuid"] for group in ("system", "network", "hardware") for c in report[group]
        }
        assert checked == {w.host["uuid"], other["uuid"]}
        items = {c["item"] for c in report["hardware"]}
        assert "data_dir_free_bytes" in items and any(i.startswith("pool_mount:") for i in items)
        assert {c["item"] for c in report["system"]} == {"qemu_img"}
        assert report["fault"] == 0 and report["score"] > 0
        assert report["normal"] + report["alarm"] == sum(
            len(report[g]) for g in ("system", "network", "hardware")
        )

        # A stopped host is a fault, not a failed inspection.
        second.stop()
        finished(admin, post(admin, "/v1/cluster/inspection", {**body, "check_network": True}))
        report = data(
            get(admin, "/v1/cluster/inspection/progress", {"cluster_uuid": w.cluster_uuid})
        )
        assert [c["level"] for c in report["network"] if c["host_uuid"] == other["uuid"]] == [
            "fault"
        ]
        assert report["system"] == [] and report["hardware"] == []


def test_inspection_stop_cancels_its_job(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        w = world(admin, agent, tmp_path)
        body = {"cluster_uuid": w.cluster_uuid, "cluster_name": "c"}
        started = post(admin, "/v1/cluster/inspection", body)
        stopped = data(post(admin, "/v1/cluster/inspection/stop", body))
        assert stopped["state"] in (2, 3) and stopped["status"]["UUID"]
        job = admin.wait(started.headers["Location"])
        report = data(
            get(admin, "/v1/cluster/inspection/progress", {"cluster_uuid": w.cluster_uuid})
        )
        # The stop may come before the job's next check (it ends Cancelled) or after
        # its last one (it ends with its report); progress says which.
        if job.status_code == 503:
            assert job.json()["error"]["code"] == "VOLPLANE.JOB.1003"
            assert report["state"] == 3
        else:
            assert job.status_code == 200 and report["state"] == 2
        again = data(post(admin, "/v1/cluster/inspection/stop", body))
        assert again["state"] == report["state"]


def test_global_storage_threshold_limits_volume_creation(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        w = world(admin, agent, tmp_path)
        config = data(get(admin, "/v1/cluster/get/global/config", {"cluster_uuid": w.cluster_uuid}))
        assert config["StorOverAllocationThreshold"] == 1.0

        pool = admin.get(f"/v1/primary-storage/{w.pool_uuid}").json()["inventories"][0]
        tiny = 1 << 20  # a threshold that leaves room for about 1 MiB
        threshold = tiny / pool["totalCapacity"]
        setting = post(
            admin,
            "/v1/cluster/set/global/config",
            {"cluster_uuid": w.cluster_uuid, "StorOverAllocationThreshold": threshold},
        )
        finished(admin, setting)
        config = data(get(admin, "/v1/cluster/get/global/config", {"cluster_uuid": w.cluster_uuid}))
        assert config["StorOverAllocationThreshold"] == threshold
        pool = admin.get(f"/v1/primary-storage/{w.pool_uuid}").json()["inventories"][0]
        assert pool["overAllocationThreshold"] == threshold

        tenant = account_uuid(admin)
        volume = {
            "cluster_uuid": w.cluster_uuid,
            "tenant": tenant,
            "pool_uuid": w.pool_uuid,
            "volume_name": "big",
            "volume_type": "block",
            "capacity": 64 << 20,
            "snap_capacity": 0,
        }
        assert failed(admin, post(admin, "/v1/volume/share/create", volume)) == (
            "VOLPLANE.STORAGE.1001"
        )

        finished(
            admin,
            post(
                admin,
                "/v1/cluster/set/global/config",
                {"cluster_uuid": w.cluster_uuid, "StorOverAllocationThreshold": 1.0},
            ),
        )
        finished(admin, post(admin, "/v1/volume/share/create", volume))


def test_database_snapshots_are_saved_listed_and_deleted(production_stack: Stack) -> None:
    admin = production_stack.login()
    zone = admin.create_zone()["uuid"]
    cluster = add_cluster(admin, zone)
    where = {"cluster_uuid": cluster, "ip": "127.0.0.1"}

    saved = finished(admin, post(admin, "/v1/cluster/data/snapshot/save", where))
    name = saved["inventory"]["fileName"]
    assert saved["inventory"]["method"] in ("pg_dump", "repeatable-read-json")
    assert Path(saved["inventory"]["path"]).stat().st_size > 0
    listed = data(get(admin, "/v1/cluster/data/snapshot/list", where))
    assert name in listed["meta_data"]["Snapshot"]

    finished(admin, post(admin, "/v1/cluster/data/snapshot/delete", {**where, "file_name": name}))
    listed = data(get(admin, "/v1/cluster/data/snapshot/list", where))
    assert name not in (listed["meta_data"]["Snapshot"] or [])
    assert failed(
        admin, post(admin, "/v1/cluster/data/snapshot/delete", {**where, "file_name": name})
    ) == ("VOLPLANE.RESOURCE.1001")
    refused(
        post(admin, "/v1/cluster/data/snapshot/delete", {**where, "file_name": "../etc/passwd"}),
        400,
    )


def test_cluster_calls_refuse_bad_input(production_stack: Stack) -> None:
    admin = production_stack.login()
    tenant_account = admin.create_account(new_name("t"))
    tenant = production_stack.login(tenant_account["name"], "secret")

    body = refused(post(admin, "/v1/cluster/add", {"name": "x"}), 400)
    assert body["scode"] == 21002 and "ip" in body["message"]
    refused(post(admin, "/v1/cluster/add", {"ip": 7, "name": "x"}), 400)
    refused(get(admin, "/v1/cluster/get", {"cluster_uuid": "f" * 32}), 404)
    refused(get(admin, "/v1/cluster/get", {"cluster_uuid": "not-a-uuid"}), 400)
    refused(get(admin, "/v1/cluster/list", {"page_size": "many"}), 400)
    zone = admin.create_zone()["uuid"]
    refused(post(tenant, "/v1/cluster/add", {"ip": "1.2.3.4", "name": "x", "zone_uuid": zone}), 403)
    refused(post(admin, "/v1/cluster/set/global/config", {"cluster_uuid": "f" * 32}), 400)
    unauthenticated = post(admin, "/v1/cluster/add", {}, headers={"Authorization": "nope"})
    refused(unauthenticated, 401)
