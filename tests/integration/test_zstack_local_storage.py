"""ZStack's local storage on hosts added over SSH, driven as a ZStack script drives it:
a zone, a cluster, three KVM hosts by SSH, a local storage attached to the cluster,
volumes on each host, one migrated to another host (tests/netns.py hosts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.netns import NetHost, NetHosts
from tests.stack import Stack, new_name
from tests.zstack_world import Script, host_tag, local_storage_world, ok

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(ssh_stack: Stack, net_hosts: NetHosts) -> Iterator[dict[str, Any]]:
    """The script's first part: zone, cluster, three hosts by SSH, local storage."""
    with local_storage_world(ssh_stack.login(), net_hosts) as built:
        yield {
            "script": built.script,
            "zone": built.zone,
            "cluster": built.cluster,
            "hosts": built.hosts,
            "ps": built.ps,
        }


def _image_on(host: NetHost, path: str) -> bool:
    return host.run("test", "-f", path, check=False).returncode == 0


def test_zstack_script_local_storage_on_three_ssh_hosts(
    world: dict[str, Any], net_hosts: NetHosts
) -> None:
    script: Script = world["script"]
    hosts, ps = world["hosts"], world["ps"]
    # The pool is every host's directory: its capacity is the sum of theirs
    shares = script.capacities(ps["uuid"])
    assert sorted(s["hostUuid"] for s in shares) == sorted(h["uuid"] for h in hosts)
    assert ps["totalCapacity"] == sum(s["totalCapacity"] for s in shares)
    assert ps["hostUuid"] is None and ps["status"] == "Connected"
    # Volumes on each host, placed by the system tag
    volumes = [script.create_volume(ps["uuid"], h["uuid"]) for h in hosts]
    for volume, host, net_host in zip(volumes, hosts, net_hosts.hosts, strict=True):
        assert volume["hostUuid"] == host["uuid"]
        assert _image_on(net_host, volume["installPath"])
    assert not _image_on(net_hosts[1], volumes[0]["installPath"])
    # One written and snapshotted: a chain of two images to move
    first, source, dest = volumes[0], net_hosts[0], net_hosts[1]
    source.run("qemu-io", "-c", "write -P 0xab 0 1M", first["installPath"])
    snap = script.client.call(
        "POST",
        f"/v1/volumes/{first['uuid']}/volume-snapshots",
        json={"params": {"name": "s1"}},
    )
    snapshot = ok(snap)
    source.run("qemu-io", "-c", "write -P 0xcd 1M 1M", first["installPath"])
    # When it is migrated to the second host
    moved = script.migrate(first["uuid"], hosts[1]["uuid"])
    # Then its ref, and its snapshot's, say the second host, and the data is there
    assert ok(moved)["hostUuid"] == hosts[1]["uuid"]
    refs = {r["resourceUuid"]: r for r in script.refs(primaryStorageUuid=ps["uuid"])}
    assert refs[first["uuid"]]["hostUuid"] == hosts[1]["uuid"]
    assert refs[first["uuid"]]["resourceType"] == "VolumeVO"
    assert refs[snapshot["uuid"]]["hostUuid"] == hosts[1]["uuid"]
    assert refs[snapshot["uuid"]]["resourceType"] == "VolumeSnapshotVO"
    assert refs[volumes[2]["uuid"]]["hostUuid"] == hosts[2]["uuid"]
    dest.run("qemu-io", "-c", "read -P 0xab 0 1M", first["installPath"])
    dest.run("qemu-io", "-c", "read -P 0xcd 1M 1M", first["installPath"])
    assert not _image_on(source, first["installPath"])
    assert not _image_on(source, snapshot["primaryStorageInstallPath"])
    volume = script.client.get(f"/v1/volumes/{first['uuid']}").json()["inventories"][0]
    assert volume["hostUuid"] == hosts[1]["uuid"]
    # and it keeps working there: a new snapshot on the new host
    ok(
        script.client.call(
            "POST",
            f"/v1/volumes/{first['uuid']}/volume-snapshots",
            json={"params": {"name": "s2"}},
        )
    )
    one = script.capacities(ps["uuid"], hosts[1]["uuid"])
    assert [s["hostUuid"] for s in one] == [hosts[1]["uuid"]]


def test_volumes_without_a_tag_go_to_some_host_of_the_pool(world: dict[str, Any]) -> None:
    script: Script = world["script"]
    volume = script.create_volume(world["ps"]["uuid"])
    assert volume["hostUuid"] in {h["uuid"] for h in world["hosts"]}


def test_migrating_to_the_same_host_or_a_stranger_is_refused(world: dict[str, Any]) -> None:
    script: Script = world["script"]
    volume = script.create_volume(world["ps"]["uuid"], world["hosts"][0]["uuid"])
    same = script.migrate(volume["uuid"], world["hosts"][0]["uuid"])
    assert same.status_code == 503 and same.json()["error"]["code"] == "VOLPLANE.ARG.1002"
    stranger = script.migrate(volume["uuid"], "0" * 32)
    assert stranger.status_code == 503


def test_full_clone_crosses_to_another_host(world: dict[str, Any], net_hosts: NetHosts) -> None:
    script: Script = world["script"]
    hosts = world["hosts"]
    volume = script.create_volume(world["ps"]["uuid"], hosts[0]["uuid"])
    net_hosts[0].run("qemu-io", "-c", "write -P 0x5a 0 2M", volume["installPath"])
    snapshot = ok(
        script.client.call(
            "POST", f"/v1/volumes/{volume['uuid']}/volume-snapshots", json={"params": {"name": "s"}}
        )
    )
    body = {
        "params": {"name": new_name("clone"), "primaryStorageUuid": world["ps"]["uuid"]},
        "systemTags": [host_tag(hosts[2]["uuid"])],
    }
    clone = ok(
        script.client.call(
            "POST", f"/v1/volumes/data/from/volume-snapshots/{snapshot['uuid']}", json=body
        )
    )
    assert clone["hostUuid"] == hosts[2]["uuid"]
    net_hosts[2].run("qemu-io", "-c", "read -P 0x5a 0 2M", clone["installPath"])
    assert not _image_on(net_hosts[0], clone["installPath"])


def test_host_holding_volumes_is_kept_unless_forced_then_rejoins(
    world: dict[str, Any], net_hosts: NetHosts
) -> None:
    script: Script = world["script"]
    host = world["hosts"][2]
    ps = world["ps"]["uuid"]
    script.create_volume(ps, host["uuid"])
    refused = script.client.call("DELETE", f"/v1/hosts/{host['uuid']}")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "VOLPLANE.RESOURCE.1004"
    assert script.refs(hostUuid=host["uuid"])
    forced = script.client.call("DELETE", f"/v1/hosts/{host['uuid']}?deleteMode=Enforcing")
    assert forced.status_code == 200, forced.text
    assert script.refs(hostUuid=host["uuid"]) == []
    assert len(script.capacities(ps)) == 2
    # A host that joins the cluster later joins the pool
    again = script.add_kvm_host(net_hosts[2], world["cluster"]["uuid"])
    shares = {s["hostUuid"] for s in script.capacities(ps)}
    assert again["uuid"] in shares and len(shares) == 3
    world["hosts"][2] = again
    pool = script.client.get(f"/v1/primary-storage/{ps}").json()["inventories"][0]
    assert pool["totalCapacity"] == sum(s["totalCapacity"] for s in script.capacities(ps))
