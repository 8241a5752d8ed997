"""A host whose machine has no qemu-img never looks ready: it cannot be added, and a
Connected host that loses it turns Disconnected at the next heartbeat."""

from __future__ import annotations

from pathlib import Path

from tests.agents import running_agent
from tests.infra import add_host, create_cluster
from tests.stack import Stack, wait_until


def no_qemu_img_path(tmp_path: Path) -> dict[str, str]:
    """A PATH with nothing on it: qemu-img (and everything else) is not found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    return {"PATH": str(empty)}


def test_host_without_qemu_img_is_refused_and_not_added(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    cluster = create_cluster(admin, admin.create_zone()["uuid"])
    with running_agent(tmp_path / "h", env=no_qemu_img_path(tmp_path)) as agent:
        assert agent.client().facts().qemu_img is None
        params = {
            "clusterUuid": cluster["uuid"],
            "name": "no-qemu",
            "managementIp": agent.host,
            "agentPort": agent.port,
            "agentToken": agent.token,
        }
        done = admin.call("POST", "/v1/hosts/kvm", json={"params": params})
        assert done.status_code == 503, done.text
        error = done.json()["error"]
        assert error["code"] == "VOLPLANE.HOST.1003"
        assert "qemu-utils" in error["details"]
        listed = admin.get(f"/v1/hosts?q=clusterUuid={cluster['uuid']}").json()["inventories"]
        assert listed == []


def test_connected_host_that_loses_qemu_img_turns_disconnected(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        assert host["status"] == "Connected" and host["qemuImg"]
        agent.env = no_qemu_img_path(tmp_path)
        agent.restart()

        def status() -> str:
            return str(admin.get(f"/v1/hosts/{host['uuid']}").json()["inventories"][0]["status"])

        wait_until(lambda: status() == "Disconnected", timeout=30)
        agent.env = {}
        agent.restart()
        wait_until(lambda: status() == "Connected", timeout=30)
