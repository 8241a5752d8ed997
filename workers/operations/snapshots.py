"""Snapshot operations (CONTRACT §5, §6): create, revert, delete (merge), update.

The tree edits are planned by ``volplane.snapshot_tree``; here they are carried out
through the volume's agent and recorded. Every job serializes on its volume
(``Volume:<uuid>``), so a volume's tree changes one job at a time, in order.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import func, select

from schemas import storage_requests as rq
from schemas.storage import Volume, VolumeSnapshot
from schemas.storage_inventories import snapshot_inventory
from schemas.tables import utcnow
from volplane import layout
from volplane.catalog import snapshots as catalog
from volplane.errors import (
    DuplicateResource,
    InsufficientSnapshotCapacity,
    VolplaneError,
)
from volplane.snapshot_tree import Overlay, Rename, plan_create, plan_delete, plan_revert
from volplane.store.tags import add_tags, delete_tags
from volplane.tenancy import get_visible, not_found
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted
from workers.operations.volumes import (
    agent_for_pool,
    check_allocate,
    lock_pool,
    measure,
    pool_of,
    record_size,
    require_ready,
    run_plan,
    snapshots_of,
    tree_of,
    visible_volume,
)


def visible_snapshot(ctx: JobContext, uuid: str, volume_uuid: str | None) -> VolumeSnapshot:
    snapshot = get_visible(ctx.session, VolumeSnapshot, uuid, ctx)
    if volume_uuid is not None and snapshot.volume_uuid != volume_uuid:
        raise not_found(VolumeSnapshot, uuid)
    return snapshot


def create_snapshot(ctx: JobContext, req: rq.CreateVolumeSnapshot) -> dict[str, Any]:
    """Freezes the head as the snapshot's image and continues on a new overlay."""
    uuid = ctx.resource_uuid
    assert uuid is not None
    if ctx.session.get(VolumeSnapshot, uuid) is not None:
        raise DuplicateResource(f"volume snapshot {uuid} already exists")
    volume = visible_volume(ctx, req.volumeUuid)
    require_ready(volume)
    pool = pool_of(ctx, volume)
    agent = agent_for_pool(ctx, pool, host_uuid=volume.host_uuid)
    head = agent.volume_info(volume.install_path, op_id=ctx.op_id("measure-before"))
    frozen_size = head.actual_size or 0
    if volume.snapshot_size + frozen_size > volume.snapshot_capacity:
        raise InsufficientSnapshotCapacity(
            f"volume {volume.uuid}: snapshots take {volume.snapshot_size} bytes, this one "
            f"would add {frozen_size}; snapshotCapacity is {volume.snapshot_capacity}"
        )
    path = layout.snapshot_path(pool.mount_path, volume.uuid, uuid)
    snapshots = snapshots_of(ctx.session, volume.uuid)
    plan = plan_create(tree_of(volume, snapshots), uuid, path)
    freeze, overlay = plan.steps
    assert isinstance(freeze, Rename) and isinstance(overlay, Overlay)
    images = {path: agent.rename_image(ctx.op_id("snap-freeze"), freeze.src, freeze.dst)}
    try:
        images[overlay.path] = agent.create_overlay(
            ctx.op_id("snap-overlay"), overlay.path, overlay.backing
        )
    except VolplaneError:
        # Put the head back where it was, so the volume never loses its image.
        with contextlib.suppress(VolplaneError):
            agent.rename_image(ctx.op_id("undo-freeze"), path, volume.install_path)
        raise
    snapshot = VolumeSnapshot(
        uuid=uuid,
        name=req.name,
        description=req.description,
        volume_uuid=volume.uuid,
        account_uuid=volume.account_uuid,
        primary_storage_uuid=volume.primary_storage_uuid,
        parent_uuid=volume.current_snapshot_uuid,
        install_path=path,
        size=images[path].actual_size or 0,
        volume_size=images[path].virtual_size,
    )
    ctx.session.add(snapshot)
    add_tags(ctx.session, uuid, "VolumeSnapshot", system=req.systemTags, user=req.userTags)
    volume.current_snapshot_uuid = uuid
    volume.snapshot_size += snapshot.size
    volume.actual_size = images[volume.install_path].actual_size or 0
    volume.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": snapshot_inventory(snapshot)}


def revert_volume(ctx: JobContext, req: rq.RevertVolumeFromSnapshot) -> dict[str, Any]:
    """The volume continues from the snapshot; what it held since is discarded, and
    later snapshots stay in the tree as another branch."""
    snapshot = visible_snapshot(ctx, req.uuid, req.volumeUuid)
    volume = visible_volume(ctx, snapshot.volume_uuid)
    require_ready(volume)
    plan = plan_revert(tree_of(volume, snapshots_of(ctx.session, volume.uuid)), snapshot.uuid)
    pool = lock_pool(ctx, volume.primary_storage_uuid)
    check_allocate(pool, snapshot.volume_size - volume.size)
    images = run_plan(
        ctx, agent_for_pool(ctx, pool, host_uuid=volume.host_uuid), plan, prefix="revert-"
    )
    head = images[volume.install_path]
    volume.current_snapshot_uuid = snapshot.uuid
    volume.size = head.virtual_size
    volume.actual_size = head.actual_size or 0
    volume.last_op_date = utcnow()
    record_size(ctx, volume)
    return {"inventory": snapshot_inventory(snapshot)}


def linked_clone_count(ctx: JobContext, snapshot_uuid: str) -> int:
    found = ctx.session.scalar(
        select(func.count()).select_from(Volume).where(Volume.parent_snapshot_uuid == snapshot_uuid)
    )
    return int(found or 0)


def delete_snapshot(ctx: JobContext, req: rq.DeleteVolumeSnapshot) -> dict[str, Any]:
    """Merges the snapshot into its single child (``qemu-img rebase`` of the child onto
    the snapshot's own backing), then deletes its image. Refused while linked clones use
    it or more than one child needs it."""
    snapshot = visible_snapshot(ctx, req.uuid, req.volumeUuid)
    volume = visible_volume(ctx, snapshot.volume_uuid)
    require_ready(volume)
    snapshots = snapshots_of(ctx.session, volume.uuid)
    plan = plan_delete(
        tree_of(volume, snapshots),
        snapshot.uuid,
        linked_clones=linked_clone_count(ctx, snapshot.uuid),
    )
    agent = agent_for_pool(ctx, pool_of(ctx, volume), host_uuid=volume.host_uuid)
    run_plan(ctx, agent, plan, prefix="merge-")
    remaining = [s for s in snapshots if s.uuid not in plan.removed]
    for kept in remaining:
        if kept.uuid in plan.reparented:
            kept.parent_uuid = plan.reparented[kept.uuid]
    volume.current_snapshot_uuid = plan.current
    measure(ctx, agent, volume, remaining, "measure")
    delete_tags(ctx.session, snapshot.uuid)
    ctx.session.delete(snapshot)
    volume.last_op_date = utcnow()
    ctx.session.flush()
    return {}


def update_snapshot(ctx: JobContext, req: rq.UpdateVolumeSnapshot) -> dict[str, Any]:
    snapshot = visible_snapshot(ctx, req.uuid, req.volumeUuid)
    if req.name is not None:
        snapshot.name = req.name
    if req.description is not None:
        snapshot.description = req.description
    snapshot.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": snapshot_inventory(snapshot)}


RUNS: Runs = {
    catalog.CREATE_VOLUME_SNAPSHOT: create_snapshot,
    catalog.REVERT_VOLUME_FROM_SNAPSHOT: revert_volume,
    catalog.DELETE_VOLUME_SNAPSHOT: absent_is_deleted(VolumeSnapshot, delete_snapshot),
    catalog.UPDATE_VOLUME_SNAPSHOT: update_snapshot,
}
