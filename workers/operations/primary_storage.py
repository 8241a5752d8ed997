"""Primary storage (pool) operations (ZStack §4.4; CONTRACT §5, §6).

A ``disk`` pool, and a ``local-storage`` pool added with ``hostUuid``, lives on one host
(``host_uuid``) and is attached to that host's cluster. A ``local-storage`` pool added
without it is ZStack's: attached to clusters, its directory set up on every connected
host of them, each host's capacity kept apart (``LocalStorageHostRef``) and summed on
the pool, each volume on one host (``Volume.host_uuid``). ``smp``, ``nfs`` and
``samba`` pools are shared: they are connected (or mounted) on every connected host
of each cluster they are attached to.

Every agent call happens before the pool row is written or changed, so a refused
or unreachable agent fails the job and leaves nothing half made.

For other areas: ``refresh_allocated`` (after a volume's virtual size changed). Which
pools a tenant may use is ``volplane.tenancy``'s rule (``availTenants``).
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from schemas import infra_requests as rq
from schemas.agent import DiskConnectArgs, MountArgs, PoolArgs, PoolCapacity
from schemas.infra import Cluster, ClusterPrimaryStorage, Host, LocalStorageHostRef, PrimaryStorage
from schemas.infra_inventories import primary_storage_inventory
from schemas.requests import DeleteResource
from schemas.states import STATE_OF_EVENT, HostStatus, ResourceState
from schemas.storage import Volume
from schemas.tables import Zone, utcnow
from volplane.capacity import PoolCapacity as CapacityRule
from volplane.catalog import primary_storage as catalog
from volplane.errors import (
    AgentError,
    DuplicateResource,
    InvalidParameter,
    ResourceInState,
    ResourceInUse,
    ResourceNotFound,
    UnsupportedPoolType,
)
from volplane.store.infra import pool_type_support
from volplane.store.tags import add_tags, delete_tags
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted, get_or_404
from workers.operations.host_access import CONNECTED, agent_of, require_usable_host

# --- the volumes in a pool ------------------------------------------------------


def volume_count(session: Session, pool_uuids: list[str]) -> int:
    if not pool_uuids:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Volume)
            .where(Volume.primary_storage_uuid.in_(pool_uuids))
        )
        or 0
    )


def allocated_bytes(session: Session, pool_uuid: str) -> int:
    """Sum of the virtual sizes of the pool's volumes."""
    total = session.scalar(
        select(func.coalesce(func.sum(Volume.size), 0)).where(
            Volume.primary_storage_uuid == pool_uuid
        )
    )
    return int(total or 0)


def delete_volume_rows(session: Session, pool_uuids: list[str]) -> None:
    if pool_uuids:
        session.execute(delete(Volume).where(Volume.primary_storage_uuid.in_(pool_uuids)))


def refresh_allocated(session: Session, pool: PrimaryStorage) -> None:
    pool.allocated_capacity = allocated_bytes(session, pool.uuid)


def capacity_of(pool: PrimaryStorage) -> CapacityRule:
    return CapacityRule(
        total=pool.total_capacity,
        available=pool.available_capacity,
        allocated=pool.allocated_capacity,
        threshold=pool.over_allocation_threshold,
    )


# --- agent steps -----------------------------------------------------------------


def _check_supported(host: Host, pool_type: str) -> None:
    facts: dict[str, Any] = host.facts or {}
    if pool_type not in facts.get("poolTypes", []):
        why = facts.get("unsupportedPoolTypes", {}).get(pool_type, "not reported by its agent")
        raise UnsupportedPoolType(f"host {host.name} cannot run {pool_type} pools: {why}")


def _agent_connect(
    ctx: JobContext,
    pool: PrimaryStorage,
    host: Host,
    *,
    step: str,
    force: bool = False,
    options: list[str] | None = None,
) -> PoolCapacity:
    agent = agent_of(ctx, host)
    op_id = ctx.op_id(step)
    if pool.type in ("local-storage", "smp"):
        # ZStack's local storage makes its directory on each host.
        return agent.connect_pool(pool.url, op_id=op_id, create=pool.is_cluster_local)
    if pool.type == "disk":
        args = DiskConnectArgs(device=pool.url, name=pool.uuid, force=force).wire()
        return PoolCapacity.model_validate(agent.run(op_id, "disk.connect", args))
    mount = MountArgs(
        kind=pool.type,
        source=pool.url,
        name=pool.uuid,
        options=options or pool.mount_options or [],
        password=pool.password,
    ).wire()
    return PoolCapacity.model_validate(agent.run(op_id, "pool.mount", mount))


def _record_capacity(pool: PrimaryStorage, found: PoolCapacity) -> None:
    pool.total_capacity = pool.total_physical_capacity = found.total_bytes
    pool.available_capacity = pool.available_physical_capacity = found.available_bytes


def connect_pool_on_host(
    ctx: JobContext,
    pool: PrimaryStorage,
    host: Host,
    *,
    step: str,
    force: bool = False,
    options: list[str] | None = None,
) -> None:
    """Connects (mounts) the pool on the host and records its capacity and path (for
    cluster-wide local storage: the host's share, and the pool's sum over hosts)."""
    found = _agent_connect(ctx, pool, host, step=step, force=force, options=options)
    pool.mount_path = found.root
    if pool.is_cluster_local:
        ref = ctx.session.get(LocalStorageHostRef, (pool.uuid, host.uuid))
        if ref is None:
            ref = LocalStorageHostRef(primary_storage_uuid=pool.uuid, host_uuid=host.uuid)
            ctx.session.add(ref)
        ref.total_capacity = ref.total_physical_capacity = found.total_bytes
        ref.available_capacity = ref.available_physical_capacity = found.available_bytes
        ref.last_op_date = utcnow()
        sum_host_capacity(ctx.session, pool)
    else:
        _record_capacity(pool, found)
    pool.status = CONNECTED


def host_refs(session: Session, pool_uuid: str) -> list[LocalStorageHostRef]:
    return list(
        session.scalars(
            select(LocalStorageHostRef)
            .where(LocalStorageHostRef.primary_storage_uuid == pool_uuid)
            .order_by(LocalStorageHostRef.create_date)
        )
    )


def sum_host_capacity(session: Session, pool: PrimaryStorage) -> None:
    """A cluster-wide local pool's capacity: the sum of its hosts' shares."""
    session.flush()
    refs = host_refs(session, pool.uuid)
    pool.total_capacity = sum(r.total_capacity for r in refs)
    pool.available_capacity = sum(r.available_capacity for r in refs)
    pool.total_physical_capacity = sum(r.total_physical_capacity for r in refs)
    pool.available_physical_capacity = sum(r.available_physical_capacity for r in refs)


def release_pool(ctx: JobContext, pool: PrimaryStorage, host: Host, *, step: str) -> None:
    """Stops the host's agent serving the pool (unmounting it if the agent mounted it)."""
    agent = agent_of(ctx, host)
    if pool.type in ("local-storage", "smp"):
        agent.disconnect_pool(pool.mount_path or pool.url, op_id=ctx.op_id(step))
    elif pool.mount_path:
        agent.run(ctx.op_id(step), "pool.unmount", PoolArgs(root=pool.mount_path).wire())
    drop_host_ref(ctx.session, pool, host.uuid)


def drop_host_ref(session: Session, pool: PrimaryStorage, host_uuid: str) -> None:
    """The host no longer contributes to a cluster-wide local pool."""
    if pool.is_cluster_local:
        session.execute(
            delete(LocalStorageHostRef).where(
                LocalStorageHostRef.primary_storage_uuid == pool.uuid,
                LocalStorageHostRef.host_uuid == host_uuid,
            )
        )
        sum_host_capacity(session, pool)


def hosts_of_pool(ctx: JobContext, pool: PrimaryStorage) -> list[Host]:
    """The hosts that reach the pool: its own host, or the hosts of attached clusters."""
    if pool.host_uuid is not None:
        host = ctx.session.get(Host, pool.host_uuid)
        return [host] if host is not None else []
    clusters = [ref.cluster_uuid for ref in pool.cluster_refs]
    if not clusters:
        return []
    return list(
        ctx.session.scalars(
            select(Host).where(Host.cluster_uuid.in_(clusters)).order_by(Host.create_date)
        )
    )


def _connect_everywhere(ctx: JobContext, pool: PrimaryStorage, hosts: list[Host]) -> int:
    """Connects a shared pool on each connected host; how many hosts took it."""
    done = 0
    for host in hosts:
        if host.status != CONNECTED or host.state == ResourceState.MAINTENANCE:
            continue
        _check_supported(host, pool.type)
        connect_pool_on_host(ctx, pool, host, step=f"connect-{host.uuid}")
        done += 1
        ctx.checkpoint()
    return done


def reconnect_pools_of_host(ctx: JobContext, host: Host) -> None:
    """After a host reconnected: its own pools, and shared pools of its cluster."""
    own = select(PrimaryStorage).where(PrimaryStorage.host_uuid == host.uuid)
    shared = (
        select(PrimaryStorage)
        .join(ClusterPrimaryStorage)
        .where(
            ClusterPrimaryStorage.cluster_uuid == host.cluster_uuid,
            PrimaryStorage.host_uuid.is_(None),
        )
    )
    for statement in (own, shared):
        for pool in ctx.session.scalars(statement):
            connect_pool_on_host(ctx, pool, host, step=f"pool-{pool.uuid}")
            refresh_allocated(ctx.session, pool)


def join_cluster_pools(ctx: JobContext, host: Host) -> None:
    """A host new in its cluster takes up the cluster's pools (shared pools and
    cluster-wide local storage: its directory and capacity join the pool)."""
    shared = (
        select(PrimaryStorage)
        .join(ClusterPrimaryStorage)
        .where(
            ClusterPrimaryStorage.cluster_uuid == host.cluster_uuid,
            PrimaryStorage.host_uuid.is_(None),
        )
        .order_by(PrimaryStorage.create_date)
    )
    for pool in ctx.session.scalars(shared):
        _check_supported(host, pool.type)
        connect_pool_on_host(ctx, pool, host, step=f"join-{pool.uuid}")


def local_volumes_on_host(session: Session, host_uuid: str) -> list[str]:
    """Volumes of cluster-wide local storage whose files are on this host."""
    cluster_local = select(PrimaryStorage.uuid).where(
        PrimaryStorage.type == "local-storage", PrimaryStorage.host_uuid.is_(None)
    )
    return list(
        session.scalars(
            select(Volume.uuid).where(
                Volume.host_uuid == host_uuid, Volume.primary_storage_uuid.in_(cluster_local)
            )
        )
    )


def leave_cluster_pools(ctx: JobContext, host: Host) -> None:
    """The host goes: its volumes' rows in cluster-wide local storage (the caller
    checked they may go) and its shares of those pools."""
    doomed = local_volumes_on_host(ctx.session, host.uuid)
    if doomed:
        ctx.session.execute(delete(Volume).where(Volume.uuid.in_(doomed)))
    pools = ctx.session.scalars(
        select(PrimaryStorage)
        .join(LocalStorageHostRef)
        .where(LocalStorageHostRef.host_uuid == host.uuid)
    )
    for pool in list(pools):
        if host.status == CONNECTED:
            try:
                release_pool(ctx, pool, host, step=f"leave-{pool.uuid}")
            except AgentError:
                drop_host_ref(ctx.session, pool, host.uuid)
        else:
            drop_host_ref(ctx.session, pool, host.uuid)
        refresh_allocated(ctx.session, pool)


# --- operations ----------------------------------------------------------------------


def _same_location(a: str, b: str) -> bool:
    return os.path.normpath(a) == os.path.normpath(b)


def add_primary_storage(ctx: JobContext, req: rq.AddPrimaryStorage) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    if ctx.session.get(PrimaryStorage, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"primary storage {ctx.resource_uuid} already exists")
    host: Host | None = None
    # local-storage with hostUuid: volplane's pool of one host; without it ZStack's
    # cluster-wide local storage (every host of the attached clusters has the directory).
    if req.type == "disk" or (req.type == "local-storage" and req.hostUuid is not None):
        if req.hostUuid is None:
            raise InvalidParameter(f"a {req.type} pool needs hostUuid")
        host = get_or_404(ctx.session, Host, req.hostUuid, "host")
        zone_uuid = req.zoneUuid or host.zone_uuid
        get_or_404(ctx.session, Zone, zone_uuid, "zone")
        if zone_uuid != host.zone_uuid:
            raise InvalidParameter(f"host {host.uuid} is not in zone {zone_uuid}")
        require_usable_host(host)
        _check_supported(host, req.type)
        siblings = select(PrimaryStorage).where(PrimaryStorage.host_uuid == host.uuid)
    else:
        if req.hostUuid is not None:
            raise InvalidParameter(f"a {req.type} pool is shared; attach it to clusters instead")
        if req.zoneUuid is None:
            raise InvalidParameter(f"a {req.type} pool needs zoneUuid")
        zone_uuid = req.zoneUuid
        get_or_404(ctx.session, Zone, zone_uuid, "zone")
        if req.type in ("nfs", "samba"):
            supported, unsupported = pool_type_support(ctx.session)
            if req.type not in supported:
                raise UnsupportedPoolType(
                    f"{req.type} pools cannot run here: {unsupported[req.type]}"
                )
        siblings = select(PrimaryStorage).where(
            PrimaryStorage.zone_uuid == zone_uuid, PrimaryStorage.host_uuid.is_(None)
        )
    for other in ctx.session.scalars(siblings):
        if _same_location(other.url, req.url):
            where = f"host {host.uuid}" if host else f"zone {zone_uuid}"
            raise DuplicateResource(f"{req.url} is already pool {other.uuid} on {where}")
    cluster = None
    if req.clusterUuid is not None:
        cluster = get_or_404(ctx.session, Cluster, req.clusterUuid, "cluster")
        _check_attachable(cluster, zone_uuid, host)
    pool = PrimaryStorage(
        uuid=ctx.resource_uuid,
        zone_uuid=zone_uuid,
        name=req.name,
        description=req.description,
        type=req.type,
        url=req.url,
        mount_path=req.url if req.type in ("local-storage", "smp") else "",
        host_uuid=host.uuid if host else None,
        status=HostStatus.CONNECTING,
        over_allocation_threshold=req.overAllocationThreshold,
        avail_tenants=sorted(set(req.availTenants or [])) or None,
        mount_options=list(req.mountOptions) or None,
        password=ctx.secret("password"),
    )
    if host is not None:
        connect_pool_on_host(
            ctx, pool, host, step="connect", force=req.force, options=req.mountOptions
        )
        cluster_uuids = {host.cluster_uuid}
    else:
        cluster_uuids = set()
    if cluster is not None:
        cluster_uuids.add(cluster.uuid)
    ctx.session.add(pool)
    ctx.session.flush()
    for cluster_uuid in sorted(cluster_uuids):
        pool.cluster_refs.append(
            ClusterPrimaryStorage(cluster_uuid=cluster_uuid, primary_storage_uuid=pool.uuid)
        )
    ctx.session.flush()
    if host is None and cluster is not None:
        _connect_everywhere(ctx, pool, hosts_of_pool(ctx, pool))
    add_tags(ctx.session, pool.uuid, "PrimaryStorage", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def _check_attachable(cluster: Cluster, zone_uuid: str, host: Host | None) -> None:
    if cluster.zone_uuid != zone_uuid:
        raise InvalidParameter(f"cluster {cluster.uuid} is not in zone {zone_uuid}")
    if host is not None and host.cluster_uuid != cluster.uuid:
        raise InvalidParameter(
            f"the pool lives on host {host.uuid}, which is not in cluster {cluster.uuid}"
        )


def attach_primary_storage(ctx: JobContext, req: rq.AttachPrimaryStorage) -> dict[str, Any]:
    pool = get_or_404(ctx.session, PrimaryStorage, req.primaryStorageUuid, "primary storage")
    cluster = get_or_404(ctx.session, Cluster, req.clusterUuid, "cluster")
    host = ctx.session.get(Host, pool.host_uuid) if pool.host_uuid else None
    _check_attachable(cluster, pool.zone_uuid, host)
    if any(ref.cluster_uuid == cluster.uuid for ref in pool.cluster_refs):
        raise DuplicateResource(
            f"primary storage {pool.uuid} is already attached to {cluster.uuid}"
        )
    pool.cluster_refs.append(
        ClusterPrimaryStorage(cluster_uuid=cluster.uuid, primary_storage_uuid=pool.uuid)
    )
    ctx.session.flush()
    if host is None:
        hosts = list(ctx.session.scalars(select(Host).where(Host.cluster_uuid == cluster.uuid)))
        _connect_everywhere(ctx, pool, hosts)
    pool.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def detach_primary_storage(ctx: JobContext, req: rq.AttachPrimaryStorage) -> dict[str, Any]:
    """Refused while the pool holds volumes (they would lose their hosts)."""
    pool = get_or_404(ctx.session, PrimaryStorage, req.primaryStorageUuid, "primary storage")
    ref = next((r for r in pool.cluster_refs if r.cluster_uuid == req.clusterUuid), None)
    if ref is None:
        raise ResourceNotFound(
            f"primary storage {pool.uuid} is not attached to cluster {req.clusterUuid}"
        )
    volumes = volume_count(ctx.session, [pool.uuid])
    if volumes:
        raise ResourceInUse(f"primary storage {pool.uuid} holds {volumes} volume(s)")
    if pool.host_uuid is None:
        hosts = ctx.session.scalars(select(Host).where(Host.cluster_uuid == req.clusterUuid))
        for host in hosts:
            if host.status == CONNECTED:
                release_pool(ctx, pool, host, step=f"release-{host.uuid}")
    pool.cluster_refs.remove(ref)
    if pool.host_uuid is None and not pool.cluster_refs:
        pool.status = HostStatus.DISCONNECTED
    pool.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def reconnect_primary_storage(ctx: JobContext, req: rq.ReconnectPrimaryStorage) -> dict[str, Any]:
    pool = get_or_404(ctx.session, PrimaryStorage, req.uuid, "primary storage")
    hosts = hosts_of_pool(ctx, pool)
    if pool.host_uuid is not None:
        for host in hosts:
            require_usable_host(host, new_work=False)
            connect_pool_on_host(ctx, pool, host, step="connect")
    elif _connect_everywhere(ctx, pool, hosts) == 0:
        raise ResourceInState(
            f"primary storage {pool.uuid} is attached to no cluster with a connected host"
        )
    refresh_allocated(ctx.session, pool)
    pool.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def sync_capacity(ctx: JobContext, req: rq.SyncPrimaryStorageCapacity) -> dict[str, Any]:
    """Reads total/available from the filesystem and sums the volumes' virtual sizes."""
    pool = get_or_404(ctx.session, PrimaryStorage, req.uuid, "primary storage")
    host = next(
        (
            h
            for h in hosts_of_pool(ctx, pool)
            if h.status == CONNECTED and h.state != ResourceState.MAINTENANCE
        ),
        None,
    )
    if host is None:
        if pool.host_uuid is not None:
            require_usable_host(
                get_or_404(ctx.session, Host, pool.host_uuid, "host"), new_work=False
            )
        raise ResourceInState(f"primary storage {pool.uuid} is reachable from no connected host")
    found = agent_of(ctx, host).pool_capacity(pool.mount_path, op_id=ctx.op_id("capacity"))
    _record_capacity(pool, found)
    refresh_allocated(ctx.session, pool)
    pool.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def change_state(ctx: JobContext, req: rq.ChangePrimaryStorageState) -> dict[str, Any]:
    pool = get_or_404(ctx.session, PrimaryStorage, req.uuid, "primary storage")
    pool.state = STATE_OF_EVENT[req.stateEvent]
    pool.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def update_primary_storage(ctx: JobContext, req: rq.UpdatePrimaryStorage) -> dict[str, Any]:
    pool = get_or_404(ctx.session, PrimaryStorage, req.uuid, "primary storage")
    if req.name is not None:
        pool.name = req.name
    if req.description is not None:
        pool.description = req.description
    if req.overAllocationThreshold is not None:
        pool.over_allocation_threshold = req.overAllocationThreshold
    if req.availTenants is not None:
        pool.avail_tenants = sorted(set(req.availTenants)) or None
    pool.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": primary_storage_inventory(pool)}


def delete_primary_storage(ctx: JobContext, req: DeleteResource) -> dict[str, Any]:
    """Refused while the pool holds volumes unless ``deleteMode=Enforcing``. The agent
    stops serving it (a disk is unmounted); the files in it are left alone."""
    pool = get_or_404(ctx.session, PrimaryStorage, req.uuid, "primary storage")
    enforcing = req.deleteMode == "Enforcing"
    volumes = volume_count(ctx.session, [pool.uuid])
    if volumes and not enforcing:
        raise ResourceInUse(
            f"primary storage {pool.uuid} holds {volumes} volume(s); delete them first "
            "or use deleteMode=Enforcing"
        )
    for host in hosts_of_pool(ctx, pool):
        if host.status != CONNECTED:
            if pool.host_uuid is not None and not enforcing:
                require_usable_host(host, new_work=False)
            continue
        try:
            release_pool(ctx, pool, host, step=f"release-{host.uuid}")
        except AgentError:
            if not enforcing:
                raise
    delete_volume_rows(ctx.session, [pool.uuid])
    delete_tags(ctx.session, pool.uuid)
    ctx.session.delete(pool)
    ctx.session.flush()
    return {}


RUNS: Runs = {
    catalog.ADD_PRIMARY_STORAGE: add_primary_storage,
    catalog.ATTACH_PRIMARY_STORAGE_TO_CLUSTER: attach_primary_storage,
    catalog.DETACH_PRIMARY_STORAGE_FROM_CLUSTER: detach_primary_storage,
    catalog.RECONNECT_PRIMARY_STORAGE: reconnect_primary_storage,
    catalog.SYNC_PRIMARY_STORAGE_CAPACITY: sync_capacity,
    catalog.CHANGE_PRIMARY_STORAGE_STATE: change_state,
    catalog.UPDATE_PRIMARY_STORAGE: update_primary_storage,
    catalog.DELETE_PRIMARY_STORAGE: absent_is_deleted(PrimaryStorage, delete_primary_storage),
}
