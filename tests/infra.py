"""Building infrastructure through the real API, for tests of any area.

    with running_agent(tmp_path / "h1") as agent:
        infra = infrastructure(client, agent, tmp_path)
        infra.pool["uuid"], infra.host["uuid"]

Every helper submits the real calls, waits for their jobs and returns inventories;
a failed job fails the test with the job's error body.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agents import AgentProcess
from tests.stack import Client, new_name


def _done(client: Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = client.call(method, path, **kwargs)
    assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
    return dict(response.json()["inventory"])


def create_cluster(client: Client, zone_uuid: str, *, name: str | None = None) -> dict[str, Any]:
    params = {"zoneUuid": zone_uuid, "name": name or new_name("cluster"), "hypervisorType": "KVM"}
    return _done(client, "POST", "/v1/clusters", json={"params": params})


def add_host(
    client: Client, agent: AgentProcess, *, cluster_uuid: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """Registers the agent as a host (in a new zone and cluster unless ``cluster_uuid``)."""
    if cluster_uuid is None:
        cluster_uuid = create_cluster(client, client.create_zone()["uuid"])["uuid"]
    params = {
        "clusterUuid": cluster_uuid,
        "name": name or new_name("host"),
        "managementIp": agent.host,
        "agentPort": agent.port,
        "agentToken": agent.token,
    }
    return _done(client, "POST", "/v1/hosts/kvm", json={"params": params})


def add_local_pool(
    client: Client, host_inventory: dict[str, Any], path: Path | str, *, name: str | None = None
) -> dict[str, Any]:
    """A ``local-storage`` pool at ``path`` (created here if missing) on the host,
    attached to the host's cluster."""
    Path(path).mkdir(parents=True, exist_ok=True)
    params = {"hostUuid": host_inventory["uuid"], "url": str(path), "name": name or new_name("ps")}
    return _done(client, "POST", "/v1/primary-storage/local-storage", json={"params": params})


def add_backup_storage(
    client: Client, host_inventory: dict[str, Any], path: Path | str
) -> dict[str, Any]:
    """An ``image-store`` backup storage at ``path`` on the host, attached to its zone."""
    params = {"hostUuid": host_inventory["uuid"], "url": str(path), "name": new_name("bs")}
    storage = _done(client, "POST", "/v1/backup-storage/image-store", json={"params": params})
    zone = host_inventory["zoneUuid"]
    return _done(client, "POST", f"/v1/zones/{zone}/backup-storage/{storage['uuid']}")


@dataclass(frozen=True)
class Infra:
    zone: dict[str, Any]
    cluster: dict[str, Any]
    host: dict[str, Any]
    pool: dict[str, Any]
    backup_storage: dict[str, Any] | None = None


def infrastructure(
    client: Client, agent: AgentProcess, tmp_path: Path, *, backup: bool = False
) -> Infra:
    """A new zone, cluster, host (``agent``) and local pool under ``tmp_path``;
    with ``backup=True`` also an image-store backup storage."""
    zone = client.create_zone()
    cluster = create_cluster(client, zone["uuid"])
    host = add_host(client, agent, cluster_uuid=cluster["uuid"])
    pool = add_local_pool(client, host, tmp_path / f"pool-{host['uuid'][:8]}")
    storage = (
        add_backup_storage(client, host, tmp_path / f"bs-{host['uuid'][:8]}") if backup else None
    )
    return Infra(zone=zone, cluster=cluster, host=host, pool=pool, backup_storage=storage)
