"""Cluster operations (ZStack §4.2)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from schemas import infra_requests as rq
from schemas.infra import Cluster, Host
from schemas.infra_inventories import cluster_inventory
from schemas.requests import DeleteResource
from schemas.states import ResourceState
from schemas.tables import Zone, utcnow
from volplane.catalog import clusters as catalog
from volplane.errors import DuplicateResource, ResourceInUse
from volplane.store.tags import add_tags, delete_tags
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted, get_or_404


def create_cluster(ctx: JobContext, req: rq.CreateCluster) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    get_or_404(ctx.session, Zone, req.zoneUuid, "zone")
    if ctx.session.get(Cluster, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"cluster {ctx.resource_uuid} already exists")
    cluster = Cluster(
        uuid=ctx.resource_uuid,
        zone_uuid=req.zoneUuid,
        name=req.name,
        description=req.description,
        hypervisor_type=req.hypervisorType,
        type=req.type,
    )
    ctx.session.add(cluster)
    add_tags(ctx.session, cluster.uuid, "Cluster", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": cluster_inventory(cluster)}


def update_cluster(ctx: JobContext, req: rq.UpdateCluster) -> dict[str, Any]:
    cluster = get_or_404(ctx.session, Cluster, req.uuid, "cluster")
    if req.name is not None:
        cluster.name = req.name
    if req.description is not None:
        cluster.description = req.description
    cluster.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": cluster_inventory(cluster)}


def change_cluster_state(ctx: JobContext, req: rq.ChangeClusterState) -> dict[str, Any]:
    cluster = get_or_404(ctx.session, Cluster, req.uuid, "cluster")
    cluster.state = ResourceState.ENABLED if req.stateEvent == "enable" else ResourceState.DISABLED
    cluster.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": cluster_inventory(cluster)}


def delete_cluster(ctx: JobContext, req: DeleteResource) -> dict[str, Any]:
    """Refused while hosts are in it: delete them first (they may hold volumes)."""
    cluster = get_or_404(ctx.session, Cluster, req.uuid, "cluster")
    hosts = ctx.session.scalar(
        select(func.count()).select_from(Host).where(Host.cluster_uuid == cluster.uuid)
    )
    if hosts:
        raise ResourceInUse(f"cluster {cluster.uuid} still has {hosts} host(s); delete them first")
    delete_tags(ctx.session, cluster.uuid)
    ctx.session.delete(cluster)
    ctx.session.flush()
    return {}


RUNS: Runs = {
    catalog.CREATE_CLUSTER: create_cluster,
    catalog.UPDATE_CLUSTER: update_cluster,
    catalog.CHANGE_CLUSTER_STATE: change_cluster_state,
    catalog.DELETE_CLUSTER: absent_is_deleted(Cluster, delete_cluster),
}
