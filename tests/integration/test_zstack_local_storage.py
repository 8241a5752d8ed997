"""ZStack's local storage on hosts added over SSH, driven as a ZStack script drives it:
a zone, a cluster, three KVM hosts by SSH, a local storage attached to the cluster,
volumes on each host, one migrated to another host (tests/netns.py hosts)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.netns import NetHost, NetHosts
from tests.stack import Client, Stack, new_name

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json()["inventory"])


def _host_tag(host_uuid: str) -> str:
    return f"localStorage::hostUuid::{host_uuid}"


class Script:
    """The calls a ZStack script makes (paths and bodies as ZStack's SDK sends them)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def create_zone(self) -> dict[str, Any]:
        return _ok(self.client.call("POST", "/v1/zones", json={"params": {"name": new_name()}}))

    def create_cluster(self, zone: str) -> dict[str, Any]:
        params = {"zoneUuid": zone, "name": new_name("cluster"), "hypervisorType": "KVM"}
        return _ok(self.client.call("POST", "/v1/clusters", json={"params": params}))

    def add_kvm_host(self, host: NetHost, cluster: str) -> dict[str, Any]:
        params = {
            "name": host.name,
            "managementIp": host.address,
            "username": "root",
            "password": host.password,
            "sshPort": host.ssh_port,
            "clusterUuid": cluster,
        }
        return _ok(self.client.call("POST", "/v1/hosts/kvm", json={"params": params}))

    def add_local_storage(self, url: str, zone: str) -> dict[str, Any]:
        params = {"url": url, "name": new_name("ls"), "zoneUuid": zone}
        return _ok(
            self.client.call("POST", "/v1/primary-storage/local-storage", json={"params": params})
        )

    def attach(self, cluster: str, ps: str) -> dict[str, Any]:
        return _ok(self.client.call("POST", f"/v1/clusters/{cluster}/primary-storage/{ps}"))

    def create_volume(self, ps: str, host: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "params": {"name": new_name("vol"), "diskSize": 8 * MiB, "primaryStorageUuid": ps}
        }
        if host is not None:
            body["systemTags"] = [_host_tag(host)]
        return _ok(self.client.call("POST", "/v1/volumes/data", json=body))

    def migrate(self, volume: str, dest_host: str) -> Any:
        return self.client.call(
            "PUT",
            f"/v1/primary-storage/local-storage/volumes/{volume}/actions",
            json={"localStorageMigrateVolume": {"destHostUuid": dest_host}},
        )

    def refs(self, **query: str) -> list[dict[str, Any]]:
        q = [f"{k}={v}" for k, v in query.items()]
        found = self.client.get("/v1/primary-storage/local-storage/resource-refs", params={"q": q})
        assert found.status_code == 200, found.text
        return list(found.json()["inventories"])

    def capacities(self, ps: str, host: str | None = None) -> list[dict[str, Any]]:
        params = {"hostUuid": host} if host else {}
        found = self.client.get(f"/v1/primary-storage/local-storage/{ps}/capacities", params=params)
        assert found.status_code == 200, found.text
        return list(found.json()["inventories"])


@pytest.fixture(scope="module")
def world(ssh_stack: Stack, net_hosts: NetHosts) -> dict[str, Any]:
    """The script's first part: zone, cluster, three hosts by SSH, local storage."""
    script = Script(ssh_stack.login())
    zone = script.create_zone()
    cluster = script.create_cluster(zone["uuid"])
    hosts = [script.add_kvm_host(h, cluster["uuid"]) for h in net_hosts.hosts]
    url = str(net_hosts.private_root / "zstack_ps")
    ps = script.add_local_storage(url, zone["uuid"])
    ps = script.attach(cluster["uuid"], ps["uuid"])
    return {"script": script, "zone": zone, "cluster": cluster, "hosts": hosts, "ps": ps}


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
    snapshot = _ok(snap)
    source.run("qemu-io", "-c", "write -P 0xcd 1M 1M", first["installPath"])
    # When it is migrated to the second host
    moved = script.migrate(first["uuid"], hosts[1]["uuid"])
    # Then its ref, and its snapshot's, say the second host, and the data is there
    assert _ok(moved)["hostUuid"] == hosts[1]["uuid"]
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
    _ok(
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
    snapshot = _ok(
        script.client.call(
            "POST", f"/v1/volumes/{volume['uuid']}/volume-snapshots", json={"params": {"name": "s"}}
        )
    )
    body = {
        "params": {"name": new_name("clone"), "primaryStorageUuid": world["ps"]["uuid"]},
        "systemTags": [_host_tag(hosts[2]["uuid"])],
    }
    clone = _ok(
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
