"""Host operations (ZStack §4.3): a host is the agent at ``managementIp:agentPort``.

ZStack's AddKVMHost gives SSH credentials: the agent is deployed over SSH
(``host_deploy``) with a fresh token; the password is a job secret, used for that
deploy only. volplane's extension gives the token of an agent already running
(``agentToken``, a job secret too). Tokens are stored on the host row and never
appear in a job record or inventory. ReconnectHost redeploys an SSH-added host whose
agent is gone or runs other code than the management node.

Other operations that need a host call ``require_usable_host`` first: a host that
is not Connected, or is in maintenance, fails the job at once with an AGENT code.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sqlalchemy import delete, select

from drivers.release import own_release
from schemas import infra_requests as rq
from schemas.infra import BackupStorage, Cluster, Host, HostStatus, PrimaryStorage
from schemas.infra_inventories import host_inventory
from schemas.requests import DeleteResource
from schemas.states import STATE_OF_EVENT
from schemas.tables import utcnow
from volplane.catalog import hosts as catalog
from volplane.errors import (
    AgentError,
    DuplicateResource,
    HostCheckFailed,
    InvalidParameter,
    ResourceInUse,
    VolplaneError,
)
from volplane.store.tags import add_tags, delete_tags
from workers.context import JobContext, Runs
from workers.operations.backup_storage import connect_backup_storage
from workers.operations.common import absent_is_deleted, get_or_404
from workers.operations.host_access import agent_of
from workers.operations.host_deploy import deploy_agent, undeploy_agent
from workers.operations.primary_storage import (
    delete_volume_rows,
    join_cluster_pools,
    leave_cluster_pools,
    local_volumes_on_host,
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


def pools_holding_volumes(ctx: JobContext, pool_uuids: list[str]) -> int:
    """How many volumes live in these pools (0 while volumes are not installed)."""
    return volume_count(ctx.session, pool_uuids)


def add_kvm_host(ctx: JobContext, req: rq.AddKvmHost) -> dict[str, Any]:
    """Over SSH (``username`` given, ZStack's way): deploys the agent, then connects.
    With an ``agentToken``: connects to the agent already running there."""
    assert ctx.resource_uuid is not None
    cluster = get_or_404(ctx.session, Cluster, req.clusterUuid, "cluster")
    if ctx.session.get(Host, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"host {ctx.resource_uuid} already exists")
    over_ssh = req.username is not None
    port = req.agentPort or (ctx.settings.host_agent_port if over_ssh else 7070)
    same_place = Host.management_ip == req.managementIp
    if not over_ssh:
        same_place &= Host.agent_port == port
    taken = ctx.session.scalar(select(Host.uuid).where(same_place))
    if taken is not None:
        raise DuplicateResource(f"host {taken} already is {req.managementIp}")
    host = Host(
        uuid=ctx.resource_uuid,
        zone_uuid=cluster.zone_uuid,
        cluster_uuid=cluster.uuid,
        name=req.name,
        description=req.description,
        management_ip=req.managementIp,
        agent_port=port,
        agent_token="",
        ssh_username=req.username,
        ssh_port=req.sshPort if over_ssh else None,
        status=CONNECTING,
    )
    # Before anything is written: a host that cannot be reached leaves no row.
    if over_ssh:
        password = ctx.secret("password")
        if not password:
            raise InvalidParameter("password is required (it is kept only until the job runs)")
        found = deploy_agent(ctx, host, password=password)
        try:
            _connect(ctx, host, found)
        except BaseException:
            with contextlib.suppress(VolplaneError):
                undeploy_agent(ctx, host)
            raise
    else:
        token = ctx.secret("agentToken")
        if not token:
            raise InvalidParameter("agentToken is required (it is kept only until the job runs)")
        host.agent_token = token
        _connect(ctx, host)
    ctx.session.add(host)
    add_tags(ctx.session, host.uuid, "Host", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    try:
        join_cluster_pools(ctx, host)
    except BaseException:
        if over_ssh:  # the job fails and writes nothing: the agent goes too
            with contextlib.suppress(VolplaneError):
                undeploy_agent(ctx, host)
        raise
    ctx.session.flush()
    return {"inventory": host_inventory(host)}


def _connect(ctx: JobContext, host: Host, found: dict[str, object] | None = None) -> None:
    """Checks the agent answers with this token and records its facts (with ``found``,
    what SSH found about the machine, kept from the last deploy otherwise)."""
    agent = agent_of(ctx, host)
    agent.health()
    facts = agent.facts()
    if facts.qemu_img is None:
        raise HostCheckFailed(
            f"host {host.name} ({host.management_ip}) has no qemu-img; install it there "
            "(apt-get install -y qemu-utils), then add or reconnect the host"
        )
    machine = found if found is not None else _machine_facts(host)
    host.facts = {**facts.wire(), **machine}
    host.status = CONNECTED
    host.last_heartbeat = utcnow()


def _machine_facts(host: Host) -> dict[str, object]:
    keys = ("os", "cpuNum", "cpuModelName", "totalMemoryCapacity", "availableMemoryCapacity")
    old = host.facts or {}
    return {key: old[key] for key in keys if key in old}


def _needs_deploy(ctx: JobContext, host: Host) -> bool:
    """A host added over SSH whose agent is gone, refuses its token or runs other code."""
    if host.ssh_username is None:
        return False
    try:
        health = agent_of(ctx, host).health()
    except AgentError:
        return True
    return health.release != own_release().id


def reconnect_host(ctx: JobContext, req: rq.ReconnectHost) -> dict[str, Any]:
    """Checks the agent again and reconnects the pools and backup storage on it."""
    host = get_or_404(ctx.session, Host, req.uuid, "host")
    if _needs_deploy(ctx, host):
        _connect(ctx, host, deploy_agent(ctx, host, password=None))
    else:
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
    volumes += len(local_volumes_on_host(ctx.session, host.uuid))
    if volumes and req.deleteMode != "Enforcing":
        raise ResourceInUse(
            f"host {host.uuid} holds {volumes} volume(s); delete or migrate them first "
            "or use deleteMode=Enforcing"
        )
    leave_cluster_pools(ctx, host)
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
    if host.ssh_username is not None:
        try:  # the agent volplane deployed goes with the host
            undeploy_agent(ctx, host)
        except VolplaneError:
            log.warning("could not remove the agent of a deleted host", extra={"host": host.uuid})
    delete_tags(ctx.session, host.uuid)
    ctx.session.execute(delete(Host).where(Host.uuid == host.uuid))
    ctx.session.flush()
    return {}


RUNS: Runs = {
    catalog.ADD_KVM_HOST: add_kvm_host,
    catalog.RECONNECT_HOST: reconnect_host,
    catalog.CHANGE_HOST_STATE: change_host_state,
    catalog.UPDATE_HOST: update_host,
    catalog.DELETE_HOST: absent_is_deleted(Host, delete_host),
}
