"""New volumes from a snapshot: linked clones and full clones (CONTRACT §5, §6).

Serialization. A clone job serializes on the snapshot's volume (``Volume:<uuid>``),
like every operation on that volume's snapshots: while a clone reads the snapshot's
chain, no job can delete or merge a snapshot of that chain, revert or delete the volume.
Once a linked clone exists its ``parentSnapshotUuid`` refuses the snapshot's deletion
(SnapshotInUse) until the clone is flattened or deleted. The new volume itself cannot
be touched while it is ``Creating``: its operations refuse, and only a forced delete
takes it (the clone job then finds its row gone and removes its image).

A full clone is visible before it ends. Its row is written by a transaction of its own
that commits at once (``Creating``, capacity reserved, keyed by the job's resource
uuid), and ``cloneProgress`` is updated the same way while the agent copies; the job's
own transaction turns it ``Ready`` at the end. A rerun after a worker died finds that
row and re-attaches to the agent's copy (same operation ids). A failure or a cancel
removes the half-made image and the row. Across hosts the source agent first writes a
flattened ``.export`` image, which the destination agent pulls over HTTP (with a
ticket that grants that one file), then the export is deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from drivers.client import AgentClient
from schemas import storage_requests as rq
from schemas.agent import ImageInfo
from schemas.infra import PrimaryStorage
from schemas.storage import Volume, VolumeSnapshot, VolumeStatus
from schemas.storage_inventories import volume_inventory
from volplane import layout
from volplane.capacity import default_snapshot_capacity
from volplane.catalog import clones as catalog
from volplane.errors import (
    DuplicateResource,
    LinkedCloneAcrossPools,
    ResourceInState,
    ResourceNotFound,
    VolplaneError,
)
from volplane.store.tags import add_tags
from workers.context import JobContext, Runs
from workers.operations.primary_storage import refresh_allocated
from workers.operations.snapshots import visible_snapshot
from workers.operations.volumes import (
    agent_for_pool,
    check_allocate,
    check_pool_open,
    choose_pool,
    lock_pool,
    place_volume,
    pool_of,
    record_size,
    remove_creating,
    side_session,
    visible_volume,
)

EXPORT_TICKET_SECONDS = 24 * 3600


def create_from_snapshot(ctx: JobContext, req: rq.CreateDataVolumeFromSnapshot) -> dict[str, Any]:
    uuid = ctx.resource_uuid
    assert uuid is not None
    snapshot = visible_snapshot(ctx, req.snapshotUuid, req.sourceVolumeUuid)
    source = visible_volume(ctx, snapshot.volume_uuid)
    if source.status == VolumeStatus.DELETED:
        raise ResourceInState(f"volume {source.uuid} is Deleted; recover it first")
    source_pool = pool_of(ctx, source)
    if req.linked:
        return _linked_clone(ctx, req, uuid, snapshot, source, source_pool)
    return _full_clone(ctx, req, uuid, snapshot, source, source_pool)


def _new_volume(
    ctx: JobContext,
    req: rq.CreateDataVolumeFromSnapshot,
    uuid: str,
    pool: PrimaryStorage,
    path: str,
    size: int,
    **fields: Any,
) -> Volume:
    defaults: dict[str, Any] = {
        "uuid": uuid,
        "name": req.name,
        "description": req.description,
        "account_uuid": ctx.account_uuid,
        "primary_storage_uuid": pool.uuid,
        "host_uuid": pool.host_uuid,
        "size": size,
        "actual_size": 0,
        "snapshot_size": 0,
        "snapshot_capacity": default_snapshot_capacity(size),
        "install_path": path,
    }
    return Volume(**{**defaults, **fields})


def _linked_clone(
    ctx: JobContext,
    req: rq.CreateDataVolumeFromSnapshot,
    uuid: str,
    snapshot: VolumeSnapshot,
    source: Volume,
    source_pool: PrimaryStorage,
) -> dict[str, Any]:
    """An overlay on the snapshot's image, in the snapshot's pool (on its host)."""
    if ctx.session.get(Volume, uuid) is not None:
        raise DuplicateResource(f"volume {uuid} already exists")
    if req.primaryStorageUuid not in (None, source_pool.uuid):
        raise LinkedCloneAcrossPools(
            f"snapshot {snapshot.uuid} is in primary storage {source_pool.uuid}; a linked "
            f"clone cannot be made in {req.primaryStorageUuid} (use linked=false)"
        )
    pool = check_pool_open(ctx, source_pool, source_pool.uuid)
    agent = agent_for_pool(ctx, pool, new_work=True, host_uuid=source.host_uuid)
    path = layout.head_path(pool.mount_path, uuid)
    info = agent.create_overlay(ctx.op_id("link"), path, snapshot.install_path)
    try:
        check_allocate(lock_pool(ctx, pool.uuid), info.virtual_size)
    except VolplaneError:
        agent.delete_volume(ctx.op_id("undo-link"), path)
        raise
    volume = _new_volume(
        ctx,
        req,
        uuid,
        pool,
        path,
        info.virtual_size,
        actual_size=info.actual_size or 0,
        base_path=snapshot.install_path,
        parent_snapshot_uuid=snapshot.uuid,
        status=VolumeStatus.READY,
        host_uuid=source.host_uuid,
    )
    ctx.session.add(volume)
    add_tags(ctx.session, uuid, "Volume", system=req.systemTags, user=req.userTags)
    record_size(ctx, volume)
    return {"inventory": volume_inventory(volume)}


def _full_clone(
    ctx: JobContext,
    req: rq.CreateDataVolumeFromSnapshot,
    uuid: str,
    snapshot: VolumeSnapshot,
    source: Volume,
    source_pool: PrimaryStorage,
) -> dict[str, Any]:
    # Without a primaryStorageUuid a clone stays in the snapshot's own pool, where its data is.
    dest = choose_pool(ctx, req.primaryStorageUuid or source_pool.uuid, snapshot.volume_size)
    host_uuid = place_volume(ctx, dest, req.systemTags, snapshot.volume_size)
    path = layout.head_path(dest.mount_path, uuid)
    source_agent = agent_for_pool(ctx, source_pool, host_uuid=source.host_uuid)
    dest_agent = agent_for_pool(ctx, dest, new_work=True, host_uuid=host_uuid)
    export = None
    if dest_agent.base_url != source_agent.base_url:
        export = layout.export_path(source_pool.mount_path, uuid)
    volume = _begin_creating(ctx, req, uuid, snapshot, dest, path, host_uuid)
    try:
        info = _copy(ctx, uuid, snapshot, source_agent, dest_agent, path, export, volume)
        ctx.checkpoint()  # a cancel that came during the copy still removes it
        row = ctx.session.get(Volume, uuid, with_for_update=True, populate_existing=True)
        if row is None:
            raise ResourceNotFound(f"volume {uuid} was deleted while it was being cloned")
    except VolplaneError:
        _abandon(ctx, uuid, dest, path, dest_agent, source_agent, export)
        raise
    row.status = VolumeStatus.READY
    row.size = info.virtual_size
    row.actual_size = info.actual_size or 0
    row.clone_progress = 100.0
    add_tags(ctx.session, uuid, "Volume", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": volume_inventory(row)}


def _begin_creating(
    ctx: JobContext,
    req: rq.CreateDataVolumeFromSnapshot,
    uuid: str,
    snapshot: VolumeSnapshot,
    dest: PrimaryStorage,
    path: str,
    host_uuid: str | None,
) -> Volume:
    """The new volume's row, committed at once as Creating with its capacity reserved
    (or found again by a rerun of the same job)."""
    with side_session(ctx) as session, session.begin():
        pool = session.get(PrimaryStorage, dest.uuid, with_for_update=True)
        existing = session.get(Volume, uuid)
        if existing is not None:
            if existing.status != VolumeStatus.CREATING or (
                existing.source_snapshot_uuid != snapshot.uuid
            ):
                raise DuplicateResource(f"volume {uuid} already exists")
            return existing
        pool = check_pool_open(ctx, pool, dest.uuid)
        check_allocate(pool, snapshot.volume_size)
        volume = _new_volume(
            ctx,
            req,
            uuid,
            pool,
            path,
            snapshot.volume_size,
            status=VolumeStatus.CREATING,
            clone_progress=0.0,
            source_snapshot_uuid=snapshot.uuid,
            host_uuid=host_uuid,
        )
        session.add(volume)
        session.flush()
        refresh_allocated(session, pool)
    return volume


def _copy(
    ctx: JobContext,
    uuid: str,
    snapshot: VolumeSnapshot,
    source_agent: AgentClient,
    dest_agent: AgentClient,
    path: str,
    export: str | None,
    volume: Volume,
) -> ImageInfo:
    def cancel() -> bool:
        return ctx.cancel_requested

    if export is None:
        return source_agent.convert_image(
            ctx.op_id("copy"),
            snapshot.install_path,
            path,
            on_progress=_progress(ctx, uuid, 0, 100),
            should_cancel=cancel,
        )
    source_agent.convert_image(
        ctx.op_id("export"),
        snapshot.install_path,
        export,
        on_progress=_progress(ctx, uuid, 0, 50),
        should_cancel=cancel,
    )
    # The expiry derives from the row's creation, so a rerun sends the very same pull.
    expires = int(volume.create_date.timestamp()) + EXPORT_TICKET_SECONDS
    info = dest_agent.pull_image(
        ctx.op_id("pull"),
        source_agent.export_url(export, expires=expires),
        path,
        on_progress=_progress(ctx, uuid, 50, 100),
        should_cancel=cancel,
    )
    source_agent.delete_volume(ctx.op_id("unexport"), export)
    return info


def _progress(ctx: JobContext, uuid: str, low: int, high: int) -> Callable[[int], None]:
    """Relays the agent's percent onto the job and the new volume's cloneProgress.

    The agent client fetches progress a few times a second, not every percent. The
    final 100 is left to the job's end, which writes it with ``Ready`` in one
    transaction; writing it here too would only delay that end.
    """

    def report(percent: int) -> None:
        overall = low + (high - low) * percent // 100
        if overall >= 100:
            return
        ctx.progress(overall)
        with side_session(ctx) as session, session.begin():
            session.execute(
                update(Volume)
                .where(Volume.uuid == uuid, Volume.status == VolumeStatus.CREATING)
                .values(clone_progress=float(overall))
            )

    return report


def _abandon(
    ctx: JobContext,
    uuid: str,
    dest: PrimaryStorage,
    path: str,
    dest_agent: AgentClient,
    source_agent: AgentClient,
    export: str | None,
) -> None:
    """Removes what a failed or cancelled full clone made: export, image, row."""
    if export is not None:
        with contextlib.suppress(VolplaneError):
            source_agent.delete_volume(ctx.op_id("undo-export"), export)
    remove_creating(ctx, uuid, dest.uuid, path, dest_agent, "undo-copy")


RUNS: Runs = {
    catalog.CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT: create_from_snapshot,
}
