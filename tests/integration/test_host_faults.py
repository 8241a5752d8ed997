"""Faults on real links between namespaced hosts added over SSH: a cable cut during a
migration, a host whose link is down (tests/netns.py, tests/zstack_world.py).

Decided behaviour: a copy whose link is cut fails (the pull stops after 15 s without
data) and is cleaned up; it does not resume. The volume stays on its source host.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.netns import NetHost, NetHosts
from tests.stack import Stack, wait_until
from tests.zstack_world import World, host_tag, local_storage_world, ok

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(ssh_stack: Stack, net_hosts: NetHosts) -> Iterator[World]:
    with local_storage_world(ssh_stack.login(), net_hosts) as built:
        yield built


def _status(world: World, host_uuid: str) -> str:
    found = world.script.client.get(f"/v1/hosts/{host_uuid}").json()["inventories"][0]
    return str(found["status"])


def _job(world: World, location: str) -> dict[str, Any]:
    answer = world.script.client.http.get(location, headers=world.script.client.headers)
    return {"status": answer.status_code, **answer.json()}


def _slow_link(host: NetHost, rate: str) -> None:
    host.run("tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", rate,
             "burst", "64kb", "latency", "2s")  # fmt: skip


def test_link_cut_during_migration_fails_cleanly(world: World, net_hosts: NetHosts) -> None:
    source, dest = net_hosts[0], net_hosts[1]
    volume = world.script.create_volume(world.ps["uuid"], world.hosts[0]["uuid"], size=64)
    source.run("qemu-io", "-c", "write -P 0x42 0 48M", volume["installPath"])
    _slow_link(source, "24mbit")  # the copy takes ~16 s: long enough to cut it midway
    try:
        accepted = world.script.client.request(
            "PUT",
            f"/v1/primary-storage/local-storage/volumes/{volume['uuid']}/actions",
            json={"localStorageMigrateVolume": {"destHostUuid": world.hosts[1]["uuid"]}},
        )
        assert accepted.status_code == 202, accepted.text
        location = accepted.json()["location"]
        # When the source's cable is cut while the copy runs
        wait_until(lambda: (_job(world, location).get("progress") or 0) > 0, timeout=60)
        source.link_down()
        ended = world.script.client.wait(location, timeout=120)
    finally:
        source.link_up()
        source.run("tc", "qdisc", "del", "dev", "eth0", "root", check=False)
    # Then the job failed with an AGENT code and nothing is left on the destination
    assert ended.status_code == 503, ended.text
    assert ended.json()["error"]["code"].startswith("VOLPLANE.AGENT."), ended.text
    leftovers = dest.run("sh", "-c", f"ls {volume['installPath']}* 2>/dev/null", check=False)
    assert leftovers.stdout.strip() == ""
    # and the volume is still on its source, whole, once the link is back
    wait_until(lambda: _status(world, world.hosts[0]["uuid"]) == "Connected", timeout=60)
    found = world.script.client.get(f"/v1/volumes/{volume['uuid']}").json()["inventories"][0]
    assert found["hostUuid"] == world.hosts[0]["uuid"] and found["status"] == "Ready"
    source.run("qemu-io", "-c", "read -P 0x42 0 48M", volume["installPath"])


def test_host_with_link_down_is_disconnected_and_fails_fast(
    world: World, net_hosts: NetHosts
) -> None:
    host, inventory = net_hosts[2], world.hosts[2]
    host.link_down()
    try:
        wait_until(lambda: _status(world, inventory["uuid"]) == "Disconnected", timeout=30)
        body = {
            "params": {"name": "v", "diskSize": 1 << 20, "primaryStorageUuid": world.ps["uuid"]},
            "systemTags": [host_tag(inventory["uuid"])],
        }
        failed = world.script.client.call("POST", "/v1/volumes/data", json=body)
        assert failed.status_code == 503
        assert failed.json()["error"]["code"] == "VOLPLANE.AGENT.1004"
    finally:
        host.link_up()
    wait_until(lambda: _status(world, inventory["uuid"]) == "Connected", timeout=30)
    ok(world.script.client.call("POST", "/v1/volumes/data", json=body))


def test_host_killed_is_disconnected_then_redeployed_by_reconnect(
    world: World, net_hosts: NetHosts
) -> None:
    host, inventory = net_hosts[1], world.hosts[1]
    host.kill()  # the whole machine: sshd, supervisor and agent
    try:
        wait_until(lambda: _status(world, inventory["uuid"]) == "Disconnected", timeout=30)
    finally:
        host.start()  # it boots with nothing running but sshd
    reconnected = world.script.client.call(
        "PUT", f"/v1/hosts/{inventory['uuid']}/actions", json={"reconnectHost": {}}
    )
    assert ok(reconnected)["status"] == "Connected"
    volume = world.script.create_volume(world.ps["uuid"], inventory["uuid"])
    assert volume["hostUuid"] == inventory["uuid"]
