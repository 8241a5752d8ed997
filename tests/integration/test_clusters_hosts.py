"""Clusters and hosts against a live stack and real agents over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.agents import running_agent
from tests.infra import add_host, add_local_pool, create_cluster
from tests.stack import Client, Stack, new_name, wait_until


def error_code(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    return str(response.json()["error"]["code"])


def one(client: Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return dict(response.json()["inventories"][0])


def test_cluster_lifecycle_and_tenants_read_only(production_stack: Stack) -> None:
    admin = production_stack.login()
    zone = admin.create_zone()
    cluster = create_cluster(admin, zone["uuid"], name=new_name("c"))
    assert cluster["zoneUuid"] == zone["uuid"] and cluster["state"] == "Enabled"

    found = admin.get(f"/v1/clusters?q=zone.uuid={zone['uuid']}").json()["inventories"]
    assert [c["uuid"] for c in found] == [cluster["uuid"]]

    path = f"/v1/clusters/{cluster['uuid']}/actions"
    updated = admin.call("PUT", path, json={"updateCluster": {"description": "racks 1-4"}})
    assert updated.json()["inventory"]["description"] == "racks 1-4"
    disabled = admin.call("PUT", path, json={"changeClusterState": {"stateEvent": "disable"}})
    assert disabled.json()["inventory"]["state"] == "Disabled"

    tenant_name = new_name("tenant")
    admin.create_account(tenant_name)
    tenant = production_stack.login(tenant_name, "secret")
    assert one(tenant, f"/v1/clusters/{cluster['uuid']}")["name"] == cluster["name"]
    refused = tenant.request("DELETE", f"/v1/clusters/{cluster['uuid']}")
    assert refused.status_code == 403

    assert admin.call("DELETE", f"/v1/clusters/{cluster['uuid']}").status_code == 200
    assert admin.get(f"/v1/clusters/{cluster['uuid']}").status_code == 404


def test_cluster_in_unknown_zone_fails_with_resource_code(production_stack: Stack) -> None:
    admin = production_stack.login()
    params = {"zoneUuid": "0" * 32, "name": "orphan", "hypervisorType": "KVM"}
    done = admin.call("POST", "/v1/clusters", json={"params": params})
    assert error_code(done) == "VOLPLANE.RESOURCE.1001"


def test_host_in_unknown_cluster_fails_with_resource_code(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        params = {
            "clusterUuid": "0" * 32,
            "name": "h",
            "managementIp": agent.host,
            "agentPort": agent.port,
            "agentToken": agent.token,
        }
        done = admin.call("POST", "/v1/hosts/kvm", json={"params": params})
        assert error_code(done) == "VOLPLANE.RESOURCE.1001"


def test_wrong_agent_token_fails_the_job_and_adds_no_host(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    zone = admin.create_zone()
    cluster = create_cluster(admin, zone["uuid"])
    with running_agent(tmp_path / "h") as agent:
        params = {
            "clusterUuid": cluster["uuid"],
            "name": "h",
            "managementIp": agent.host,
            "agentPort": agent.port,
            "agentToken": "not-the-token",
        }
        done = admin.call("POST", "/v1/hosts/kvm", json={"params": params})
        assert error_code(done) == "VOLPLANE.AGENT.1003"
        assert "refused the token" in done.json()["error"]["details"]
        hosts = admin.get(f"/v1/hosts?q=clusterUuid={cluster['uuid']}").json()["inventories"]
        assert hosts == []


def test_agent_token_is_never_shown(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        listed = admin.get(f"/v1/hosts/{host['uuid']}").text
        jobs = admin.get("/v1/api-jobs?q=apiName=AddKVMHost&limit=1000").text
        assert agent.token not in listed + jobs + str(host)


def test_host_follows_its_agent_and_blocks_work_while_down(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        # Given a connected host with a pool
        host = add_host(admin, agent)
        assert host["status"] == "Connected"
        assert host["hostname"] and "local-storage" in host["poolTypes"]
        pool = add_local_pool(admin, host, tmp_path / "pool")

        # When its agent dies, the heartbeat marks the host and its pool Disconnected
        agent.kill()
        wait_until(lambda: one(admin, f"/v1/hosts/{host['uuid']}")["status"] == "Disconnected")
        assert one(admin, f"/v1/primary-storage/{pool['uuid']}")["status"] == "Disconnected"

        # Then work needing it fails fast with an AGENT code and makes nothing
        done = admin.call(
            "POST",
            "/v1/primary-storage/local-storage",
            json={"params": {"hostUuid": host["uuid"], "url": str(tmp_path), "name": "p2"}},
        )
        assert error_code(done) == "VOLPLANE.AGENT.1004"
        pools = admin.get(f"/v1/primary-storage?q=hostUuid={host['uuid']}").json()["inventories"]
        assert [p["uuid"] for p in pools] == [pool["uuid"]]

        # When the agent is back and the host reconnected, host and pool are Connected
        agent.start()
        path = f"/v1/hosts/{host['uuid']}/actions"
        done = admin.call("PUT", path, json={"reconnectHost": {}})
        assert done.status_code == 200, done.text
        assert done.json()["inventory"]["status"] == "Connected"
        wait_until(
            lambda: one(admin, f"/v1/primary-storage/{pool['uuid']}")["status"] == "Connected"
        )


def test_maintenance_blocks_new_work_on_the_host(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        path = f"/v1/hosts/{host['uuid']}/actions"
        done = admin.call("PUT", path, json={"changeHostState": {"stateEvent": "maintain"}})
        assert done.json()["inventory"]["state"] == "Maintenance"
        (tmp_path / "pool").mkdir()
        params = {"hostUuid": host["uuid"], "url": str(tmp_path / "pool"), "name": "p"}
        refused = admin.call("POST", "/v1/primary-storage/local-storage", json={"params": params})
        assert error_code(refused) == "VOLPLANE.AGENT.1004"
        assert "maintenance" in refused.json()["error"]["details"]

        admin.call("PUT", path, json={"changeHostState": {"stateEvent": "enable"}})
        assert add_local_pool(admin, host, tmp_path / "pool")["status"] == "Connected"


def test_delete_host_removes_its_empty_pools(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        pool = add_local_pool(admin, host, tmp_path / "pool")
        assert admin.call("DELETE", f"/v1/hosts/{host['uuid']}").status_code == 200
        assert admin.get(f"/v1/hosts/{host['uuid']}").status_code == 404
        assert admin.get(f"/v1/primary-storage/{pool['uuid']}").status_code == 404
        # The directory and anything in it stay where they were.
        assert (tmp_path / "pool").is_dir()


def test_duplicate_agent_address_is_refused(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        params = {
            "clusterUuid": host["clusterUuid"],
            "name": "again",
            "managementIp": agent.host,
            "agentPort": agent.port,
            "agentToken": agent.token,
        }
        done = admin.call("POST", "/v1/hosts/kvm", json={"params": params})
        assert error_code(done) == "VOLPLANE.RESOURCE.1005"
