"""Zone operations (ZStack §4.1)."""

from __future__ import annotations

from typing import Any

from schemas import requests as rq
from schemas.inventories import zone_inventory
from schemas.states import ResourceState
from schemas.tables import Zone, utcnow
from volplane.catalog import zones as catalog
from volplane.errors import DuplicateResource
from volplane.store.tags import add_tags, delete_tags
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted, get_or_404


def create_zone(ctx: JobContext, req: rq.CreateZone) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    if ctx.session.get(Zone, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"zone {ctx.resource_uuid} already exists")
    zone = Zone(uuid=ctx.resource_uuid, name=req.name, description=req.description)
    ctx.session.add(zone)
    add_tags(ctx.session, zone.uuid, "Zone", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": zone_inventory(zone)}


def update_zone(ctx: JobContext, req: rq.UpdateZone) -> dict[str, Any]:
    zone = get_or_404(ctx.session, Zone, req.uuid, "zone")
    if req.name is not None:
        zone.name = req.name
    if req.description is not None:
        zone.description = req.description
    zone.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": zone_inventory(zone)}


def change_zone_state(ctx: JobContext, req: rq.ChangeZoneState) -> dict[str, Any]:
    zone = get_or_404(ctx.session, Zone, req.uuid, "zone")
    zone.state = ResourceState.ENABLED if req.stateEvent == "enable" else ResourceState.DISABLED
    zone.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": zone_inventory(zone)}


def delete_zone(ctx: JobContext, req: rq.DeleteResource) -> dict[str, Any]:
    zone = get_or_404(ctx.session, Zone, req.uuid, "zone")
    delete_tags(ctx.session, zone.uuid)
    ctx.session.delete(zone)
    ctx.session.flush()
    return {}


RUNS: Runs = {
    catalog.CREATE_ZONE: create_zone,
    catalog.UPDATE_ZONE: update_zone,
    catalog.CHANGE_ZONE_STATE: change_zone_state,
    catalog.DELETE_ZONE: absent_is_deleted(Zone, delete_zone),
}
