"""Host operations (ZStack §4.3): a host is the agent at ``managementIp:agentPort``.

The agent token arrives as a job secret (``agentToken``), is checked against the
agent and stored on the host row; it never appears in a job record or inventory.

Other operations that need a host call ``require_usable_host`` first: a host that
is not Connected, or is in maintenance, fails the job at once with an AGENT code.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select

from schemas import infra_requests as rq
from schemas.infra import BackupStorage, Cluster, Host, HostStatus, PrimaryStorage
from schemas.infra_inventories import host_inventory
from schemas.requests import DeleteResource
from schemas.tables import utcnow
from volplane.errors import (
    AgentError,
    DuplicateResource,
    InvalidParameter,
    ResourceInUse,
)
from volplane.operations import JobContext, Operation
from volplane.store.tags import add_tags, delete_tags
from workers.operations.backup_storage import connect_backup_storage
from workers.operations.common import absent_is_deleted, get_or_404
from workers.operations.host_access import agent_of
from workers.operations.primary_storage import (
    delete_volume_rows,
    reconnect_pools_of_host,
    release_pool,
    volume_count,
)

log = logging.getLogger("volplane.hosts")

CONNECTED, DISCONNECTED, CONNECTING = (
    HostStatus.CONNECTED,
    HostStatus.DISCONNECTED,
    HostStatus.CONNECTING,
)
STATE_OF_EVENT = {"enable": "Enabled", "disable": "Disabled", "maintain": "Maintenance"}


def pools_holding_volumes(ctx: JobContext, pool_uuids: list[str]) -> int:
    """How many volumes live in these pools (0 while volumes are not installed)."""
    return volume_count(ctx.session, pool_uuids)


def add_kvm_host(ctx: JobContext, req: rq.AddKvmHost) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    cluster = get_or_404(ctx.session, Cluster, req.clusterUuid, "cluster")
    if ctx.session.get(Host, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"host {ctx.resource_uuid} already exists")
    taken = ctx.session.scalar(
        select(Host.uuid).where(
            Host.management_ip == req.managementIp, Host.agent_port == req.agentPort
        )
    )
    if taken is not None:
        raise DuplicateResource(
            f"host {taken} already uses the agent at {req.managementIp}:{req.agentPort}"
        )
    token = ctx.secret("agentToken")
    if not token:
        raise InvalidParameter("agentToken is required (it is kept only until the job runs)")
    host = Host(
        uuid=ctx.resource_uuid,
        zone_uuid=cluster.zone_uuid,
        cluster_uuid=cluster.uuid,
        name=req.name,
        description=req.description,
        management_ip=req.managementIp,
        agent_port=req.agentPort,
        agent_token=token,
        status=CONNECTING,
    )
    _connect(ctx, host)  # before anything is written: a refused agent leaves no host
    ctx.session.add(host)
    add_tags(ctx.session, host.uuid, "Host", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": host_inventory(host)}


def _connect(ctx: JobContext, host: Host) -> None:
    """Checks the agent answers with this token and records its facts."""
    agent = agent_of(ctx, host)
    agent.health()
    facts = agent.facts()
    host.facts = facts.wire()
    host.status = CONNECTED
    host.last_heartbeat = utcnow()


def reconnect_host(ctx: JobContext, req: rq.ReconnectHost) -> dict[str, Any]:
    """Checks the agent again and reconnects the pools and backup storage on it."""
    host = get_or_404(ctx.session, Host, req.uuid, "host")
    _connect(ctx, host)
    host.last_op_date = utcnow()
    ctx.checkpoint()
    reconnect_pools_of_host(ctx, host)
    for storage in ctx.session.scalars(
        select(BackupStorage).where(BackupStorage.host_uuid == host.uuid)
    ):
        connect_backup_storage(ctx, storage, host, step=f"bs-{storage.uuid}")
    ctx.session.flush()
    return {"inventory": host_inventory(host)}


def change_host_state(ctx: JobContext, req: rq.ChangeHostState) -> dict[str, Any]:
    host = get_or_404(ctx.session, Host, req.uuid, "host")
    host.state = STATE_OF_EVENT[req.stateEvent]
    host.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": host_inventory(host)}


def update_host(ctx: JobContext, req: rq.UpdateHost) -> dict[str, Any]:
    host = get_or_404(ctx.session, Host, req.uuid, "host")
    if req.name is not None:
        host.name = req.name
    if req.description is not None:
        host.description = req.description
    host.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": host_inventory(host)}


def delete_host(ctx: JobContext, req: DeleteResource) -> dict[str, Any]:
    """Deletes the host with its pools and backup storage (their files stay on disk).

    Refused while its pools hold volumes, unless ``deleteMode=Enforcing``.
    """
    host = get_or_404(ctx.session, Host, req.uuid, "host")
    pools = list(
        ctx.session.scalars(select(PrimaryStorage).where(PrimaryStorage.host_uuid == host.uuid))
    )
    storages = list(
        ctx.session.scalars(select(BackupStorage).where(BackupStorage.host_uuid == host.uuid))
    )
    volumes = pools_holding_volumes(ctx, [p.uuid for p in pools])
    if volumes and req.deleteMode != "Enforcing":
        raise ResourceInUse(
            f"host {host.uuid} has pools holding {volumes} volume(s); delete them first "
            "or use deleteMode=Enforcing"
        )
    for pool in pools:
        if host.status == CONNECTED:
            try:
                release_pool(ctx, pool, host, step=f"release-{pool.uuid}")
            except AgentError:
                log.warning("could not release pool on deleted host", extra={"pool": pool.uuid})
        delete_volume_rows(ctx.session, [pool.uuid])
        delete_tags(ctx.session, pool.uuid)
        ctx.session.delete(pool)
    for storage in storages:
        delete_tags(ctx.session, storage.uuid)
        ctx.session.delete(storage)
    ctx.session.flush()
    delete_tags(ctx.session, host.uuid)
    ctx.session.execute(delete(Host).where(Host.uuid == host.uuid))
    ctx.session.flush()
    return {}


OPERATIONS: list[Operation[Any]] = [
    Operation("AddKVMHost", rq.AddKvmHost, "Host", add_kvm_host, admin_only=True),
    Operation("ReconnectHost", rq.ReconnectHost, "Host", reconnect_host, admin_only=True),
    Operation("ChangeHostState", rq.ChangeHostState, "Host", change_host_state, admin_only=True),
    Operation("UpdateHost", rq.UpdateHost, "Host", update_host, admin_only=True),
    Operation(
        "DeleteHost", DeleteResource, "Host", absent_is_deleted(Host, delete_host), admin_only=True
    ),
]
