"""AddKVMHost as ZStack sends it: volplane reaches the host over SSH, deploys its
agent there and connects, on namespaced hosts with their own sshd (tests/netns.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.infra import create_cluster
from tests.netns import NetHost, NetHosts
from tests.stack import Client, Stack, new_name, wait_until

pytestmark = pytest.mark.integration


def _add_params(host: NetHost, cluster_uuid: str, **over: Any) -> dict[str, Any]:
    params = {
        "username": "root",
        "password": host.password,
        "sshPort": host.ssh_port,
        "managementIp": host.address,
        "clusterUuid": cluster_uuid,
        "name": new_name("kvm"),
    }
    return {**params, **over}


def _agent_pids(host: NetHost) -> list[str]:
    return host.run("pgrep", "-f", "drivers.agent", check=False).stdout.split()


def _host_status(admin: Client, uuid: str) -> str:
    return str(admin.get(f"/v1/hosts/{uuid}").json()["inventories"][0]["status"])


@pytest.fixture(scope="module")
def admin(ssh_stack: Stack) -> Client:
    return ssh_stack.login()


@pytest.fixture(scope="module")
def cluster(admin: Client) -> dict[str, Any]:
    return create_cluster(admin, admin.create_zone()["uuid"])


@pytest.fixture(scope="module")
def added(admin: Client, cluster: dict[str, Any], net_hosts: NetHosts) -> Iterator[dict[str, Any]]:
    """The first namespaced host, added over SSH (deleted afterwards, agent and all)."""
    done = admin.call(
        "POST", "/v1/hosts/kvm", json={"params": _add_params(net_hosts[0], cluster["uuid"])}
    )
    assert done.status_code == 200, done.text
    yield dict(done.json()["inventory"])
    gone = admin.call("DELETE", f"/v1/hosts/{done.json()['inventory']['uuid']}")
    assert gone.status_code == 200, gone.text
    assert not _private(net_hosts, net_hosts[0]).exists()
    assert not _agent_pids(net_hosts[0])


def _private(net: NetHosts, host: NetHost, *parts: str) -> Any:
    return host.private_path(net.private_root.joinpath("agent", *parts))


def test_add_kvm_host_over_ssh_deploys_and_connects_its_agent(
    admin: Client, added: dict[str, Any], net_hosts: NetHosts, ssh_stack: Stack
) -> None:
    host = net_hosts[0]
    # Then the host is Connected with what SSH found about the machine
    assert added["status"] == "Connected"
    assert added["managementIp"] == host.address
    assert added["username"] == "root" and added["sshPort"] == 22
    assert added["cpuNum"] >= 1 and added["totalMemoryCapacity"] > 0
    assert added["hostname"] == host.netns
    # and the agent runs on that host, from the release the management node installed
    assert _agent_pids(host)
    assert list(_private(net_hosts, host, "releases").iterdir())
    assert (_private(net_hosts, host, "agent.env").stat().st_mode & 0o777) == 0o600
    # and the other hosts got nothing
    assert not _private(net_hosts, net_hosts[1]).exists()


def test_the_password_is_never_kept(
    admin: Client, added: dict[str, Any], net_hosts: NetHosts, ssh_stack: Stack
) -> None:
    password = net_hosts[0].password
    jobs = admin.get("/v1/api-jobs", params={"q": "apiName=AddKVMHost"}).json()["inventories"]
    assert jobs and all(password not in str(job) for job in jobs)
    assert password not in str(admin.get("/v1/hosts").json())
    engine = create_engine(ssh_stack.env["VOLPLANE_DATABASE_URL"])
    with engine.connect() as db:
        for table in ("api_jobs", "job_secrets", "hosts", "resource_tags"):
            rows = db.execute(text(f"SELECT * FROM {table}")).all()
            assert all(password not in str(row) for row in rows), table
    engine.dispose()
    assert password not in ssh_stack.logs()


def test_a_dead_agent_is_restarted_on_its_host(
    admin: Client, added: dict[str, Any], net_hosts: NetHosts
) -> None:
    host = net_hosts[0]
    before = _agent_pids(host)
    host.run("pkill", "-KILL", "-f", "drivers.agent")
    wait_until(lambda: _agent_pids(host) and _agent_pids(host) != before, timeout=20)
    wait_until(lambda: _host_status(admin, added["uuid"]) == "Connected", timeout=20)


def test_reconnect_redeploys_an_agent_that_is_gone(
    admin: Client, added: dict[str, Any], net_hosts: NetHosts
) -> None:
    host = net_hosts[0]
    # Given the agent and its supervisor are gone (the host rebooted)
    host.run("pkill", "-KILL", "-f", "supervise.sh")
    host.run("pkill", "-KILL", "-f", "drivers.agent")
    wait_until(lambda: _host_status(admin, added["uuid"]) == "Disconnected", timeout=20)
    # When the host is reconnected
    done = admin.call("PUT", f"/v1/hosts/{added['uuid']}/actions", json={"reconnectHost": {}})
    # Then the agent is deployed again (with the management node's key, no password)
    assert done.status_code == 200, done.text
    assert done.json()["inventory"]["status"] == "Connected"
    assert _agent_pids(host)


def _failed(admin: Client, params: dict[str, Any]) -> dict[str, Any]:
    done = admin.call("POST", "/v1/hosts/kvm", json={"params": params})
    assert done.status_code == 503, done.text
    return dict(done.json()["error"])


def _nothing_made(admin: Client, net: NetHosts, host: NetHost) -> None:
    found = admin.get("/v1/hosts", params={"q": f"managementIp={host.address}"})
    assert found.json()["inventories"] == []
    assert not _private(net, host).exists()
    assert not _agent_pids(host)


def test_wrong_password_is_refused_and_leaves_nothing(
    admin: Client, cluster: dict[str, Any], net_hosts: NetHosts
) -> None:
    host = net_hosts[1]
    error = _failed(admin, _add_params(host, cluster["uuid"], password="not-" + host.password))
    assert error["code"] == "VOLPLANE.HOST.1001"
    _nothing_made(admin, net_hosts, host)


def test_unreachable_host_is_refused(
    admin: Client, cluster: dict[str, Any], net_hosts: NetHosts
) -> None:
    nobody = str(list(net_hosts.subnet.hosts())[200])
    error = _failed(admin, _add_params(net_hosts[1], cluster["uuid"], managementIp=nobody))
    assert error["code"] == "VOLPLANE.HOST.1002"
    assert (
        admin.get("/v1/hosts", params={"q": f"managementIp={nobody}"}).json()["inventories"] == []
    )


def test_host_without_qemu_img_is_refused_and_leaves_nothing(
    admin: Client, cluster: dict[str, Any], net_hosts: NetHosts, tmp_path: Any
) -> None:
    host = net_hosts[1]
    qemu_img = host.run("sh", "-c", "command -v qemu-img").stdout.strip()
    stand_in = tmp_path / "not-qemu-img"
    stand_in.write_text("")  # not executable: qemu-img is as good as absent
    host.run("mount", "--bind", str(stand_in), qemu_img)
    try:
        error = _failed(admin, _add_params(host, cluster["uuid"]))
    finally:
        host.run("umount", qemu_img)
    assert error["code"] == "VOLPLANE.HOST.1003"
    assert "qemu-img" in error["details"]
    _nothing_made(admin, net_hosts, host)


def test_neither_password_nor_token_is_a_bad_request(
    admin: Client, cluster: dict[str, Any], net_hosts: NetHosts
) -> None:
    params = _add_params(net_hosts[1], cluster["uuid"])
    del params["password"]
    response = admin.request("POST", "/v1/hosts/kvm", json={"params": params})
    assert response.status_code == 400
    assert "password" in response.text
