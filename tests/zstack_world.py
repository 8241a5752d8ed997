"""A ZStack script's calls, and the world it builds on namespaced hosts (tests/netns.py):
a zone, a cluster, every host added by SSH, a local storage attached to the cluster.

    with local_storage_world(stack.login(), net_hosts) as world:
        world.script.create_volume(world.ps["uuid"], world.hosts[0]["uuid"])

On exit the hosts are deleted (their volumes with them, their agents removed), so
the next user of the same hosts can add them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.netns import NetHost, NetHosts
from tests.stack import Client, new_name

MiB = 1024 * 1024


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json()["inventory"])


def host_tag(host_uuid: str) -> str:
    return f"localStorage::hostUuid::{host_uuid}"


class Script:
    """The calls a ZStack script makes (paths and bodies as ZStack's SDK sends them)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def create_zone(self) -> dict[str, Any]:
        return ok(self.client.call("POST", "/v1/zones", json={"params": {"name": new_name()}}))

    def create_cluster(self, zone: str) -> dict[str, Any]:
        params = {"zoneUuid": zone, "name": new_name("cluster"), "hypervisorType": "KVM"}
        return ok(self.client.call("POST", "/v1/clusters", json={"params": params}))

    def add_kvm_host(self, host: NetHost, cluster: str) -> dict[str, Any]:
        params = {
            "name": host.name,
            "managementIp": host.address,
            "username": "root",
            "password": host.password,
            "sshPort": host.ssh_port,
            "clusterUuid": cluster,
        }
        return ok(self.client.call("POST", "/v1/hosts/kvm", json={"params": params}))

    def add_local_storage(self, url: str, zone: str) -> dict[str, Any]:
        params = {"url": url, "name": new_name("ls"), "zoneUuid": zone}
        return ok(
            self.client.call("POST", "/v1/primary-storage/local-storage", json={"params": params})
        )

    def attach(self, cluster: str, ps: str) -> dict[str, Any]:
        return ok(self.client.call("POST", f"/v1/clusters/{cluster}/primary-storage/{ps}"))

    def create_volume(self, ps: str, host: str | None = None, *, size: int = 8) -> dict[str, Any]:
        """A data volume of ``size`` MiB (on ``host`` by the system tag)."""
        body: dict[str, Any] = {
            "params": {"name": new_name("vol"), "diskSize": size * MiB, "primaryStorageUuid": ps}
        }
        if host is not None:
            body["systemTags"] = [host_tag(host)]
        return ok(self.client.call("POST", "/v1/volumes/data", json=body))

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


@dataclass
class World:
    script: Script
    zone: dict[str, Any]
    cluster: dict[str, Any]
    hosts: list[dict[str, Any]]
    ps: dict[str, Any]


@contextmanager
def local_storage_world(client: Client, net: NetHosts) -> Iterator[World]:
    script = Script(client)
    zone = script.create_zone()
    cluster = script.create_cluster(zone["uuid"])
    world = World(script, zone, cluster, [], {})
    try:
        world.hosts = [script.add_kvm_host(h, cluster["uuid"]) for h in net.hosts]
        ps = script.add_local_storage(str(net.private_root / "zstack_ps"), zone["uuid"])
        world.ps = script.attach(cluster["uuid"], ps["uuid"])
        yield world
    finally:
        for host in world.hosts:
            client.call("DELETE", f"/v1/hosts/{host['uuid']}?deleteMode=Enforcing")
