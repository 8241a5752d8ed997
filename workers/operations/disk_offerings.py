"""Disk offerings (ZStack's ``/disk-offerings``): named sizes data volumes are made from.

Admin-managed and readable by every account, as ZStack shares them. Deleting one
leaves the volumes made from it alone; they keep its uuid as ZStack's do.
"""

from __future__ import annotations

from typing import Any

from schemas import storage_requests as rq
from schemas.requests import DeleteResource
from schemas.storage import DiskOffering
from schemas.storage_inventories import disk_offering_inventory
from schemas.tables import utcnow
from volplane.catalog import disk_offerings as catalog
from volplane.errors import DuplicateResource
from volplane.store.tags import add_tags, delete_tags
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted, get_or_404


def create_disk_offering(ctx: JobContext, req: rq.CreateDiskOffering) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    if ctx.session.get(DiskOffering, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"disk offering {ctx.resource_uuid} already exists")
    offering = DiskOffering(
        uuid=ctx.resource_uuid,
        name=req.name,
        description=req.description,
        disk_size=req.diskSize,
        sort_key=req.sortKey,
        type=req.type or "DefaultDiskOfferingType",
        allocator_strategy=req.allocationStrategy,
    )
    ctx.session.add(offering)
    add_tags(ctx.session, offering.uuid, "DiskOffering", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": disk_offering_inventory(offering)}


def _done(ctx: JobContext, offering: DiskOffering) -> dict[str, Any]:
    offering.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": disk_offering_inventory(offering)}


def update_disk_offering(ctx: JobContext, req: rq.UpdateDiskOffering) -> dict[str, Any]:
    offering = get_or_404(ctx.session, DiskOffering, req.uuid, "disk offering")
    if req.name is not None:
        offering.name = req.name
    if req.description is not None:
        offering.description = req.description
    return _done(ctx, offering)


def change_disk_offering_state(ctx: JobContext, req: rq.ChangeDiskOfferingState) -> dict[str, Any]:
    offering = get_or_404(ctx.session, DiskOffering, req.uuid, "disk offering")
    offering.state = "Enabled" if req.stateEvent == "enable" else "Disabled"
    return _done(ctx, offering)


def delete_disk_offering(ctx: JobContext, req: DeleteResource) -> dict[str, Any]:
    offering = get_or_404(ctx.session, DiskOffering, req.uuid, "disk offering")
    delete_tags(ctx.session, offering.uuid)
    ctx.session.delete(offering)
    ctx.session.flush()
    return {}


RUNS: Runs = {
    catalog.CREATE_DISK_OFFERING: create_disk_offering,
    catalog.UPDATE_DISK_OFFERING: update_disk_offering,
    catalog.CHANGE_DISK_OFFERING_STATE: change_disk_offering_state,
    catalog.DELETE_DISK_OFFERING: absent_is_deleted(DiskOffering, delete_disk_offering),
}
