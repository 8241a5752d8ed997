"""Image-store backup storage against a live stack and a real agent."""

from __future__ import annotations

from pathlib import Path

from tests.agents import AgentProcess, running_agent
from tests.infra import add_backup_storage, add_host
from tests.integration.test_clusters_hosts import error_code, one
from tests.stack import Stack, new_name


def test_image_store_lifecycle(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        storage = add_backup_storage(admin, host, tmp_path / "bs")
        assert (tmp_path / "bs").is_dir()
        assert storage["status"] == "Connected"
        assert storage["attachedZoneUuids"] == [host["zoneUuid"]]
        assert storage["totalCapacity"] > 0

        found = admin.get(f"/v1/backup-storage?q=host.uuid={host['uuid']}").json()
        assert [s["uuid"] for s in found["inventories"]] == [storage["uuid"]]
        capacity = admin.get(f"/v1/backup-storage/capacities?backupStorageUuids={storage['uuid']}")
        assert capacity.json()["totalCapacity"] == storage["totalCapacity"]

        actions = f"/v1/backup-storage/{storage['uuid']}/actions"
        disabled = admin.call(
            "PUT", actions, json={"changeBackupStorageState": {"stateEvent": "disable"}}
        )
        assert disabled.json()["inventory"]["state"] == "Disabled"
        reconnected = admin.call("PUT", actions, json={"reconnectBackupStorage": {}})
        assert reconnected.json()["inventory"]["status"] == "Connected"

        zone_path = f"/v1/zones/{host['zoneUuid']}/backup-storage/{storage['uuid']}"
        assert admin.call("DELETE", zone_path).json()["inventory"]["attachedZoneUuids"] == []

        assert admin.call("DELETE", f"/v1/backup-storage/{storage['uuid']}").status_code == 200
        assert admin.get(f"/v1/backup-storage/{storage['uuid']}").status_code == 404


def test_image_store_by_hostname_and_bad_input(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    # An address of its own, so "hostname" names exactly this agent.
    agent = AgentProcess(tmp_path / "h", host="127.0.0.2")
    agent.start()
    try:
        add_host(admin, agent)
        params = {"hostname": agent.host, "url": str(tmp_path / "bs2"), "name": new_name("bs")}
        # ZStack clients send ssh credentials; they are accepted and never recorded.
        ssh = {"username": "root", "password": "ssh-secret-pw", "sshPort": 22}
        accepted = admin.request(
            "POST", "/v1/backup-storage/image-store", json={"params": {**params, **ssh}}
        )
        done = admin.wait(accepted.json()["location"])
        assert done.status_code == 200, done.text
        job = admin.get(f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}/inventory").json()
        recorded = job["inventories"][0]["request"]["params"]
        assert not set(ssh) & set(recorded) and "ssh-secret-pw" not in str(job)
        assert one(admin, f"/v1/backup-storage/{done.json()['inventory']['uuid']}")["url"] == str(
            tmp_path / "bs2"
        )
        relative = {**params, "url": "relative/dir", "name": new_name("bs")}
        bad = admin.call("POST", "/v1/backup-storage/image-store", json={"params": relative})
        assert error_code(bad) == "VOLPLANE.ARG.1002"
        unknown = {**params, "hostname": "192.0.2.1", "name": new_name("bs")}
        missing = admin.call("POST", "/v1/backup-storage/image-store", json={"params": unknown})
        assert error_code(missing) == "VOLPLANE.RESOURCE.1001"
    finally:
        agent.stop()
