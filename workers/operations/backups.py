"""Volume backups (CONTRACT §5, §6; issue 5): create, delete, restore into a new volume.

Data path. The agent of the volume's host reads the image (only allocated extents,
``drivers.backup_io``) and stores chunks in the backup storage's chunk store: directly
when the store is on the same host, else over HTTP through the store host's agent with
a ticket for that store (``drivers.agent.chunk_routes``). A restore runs on the agent of
the destination pool's host and pulls chunks the same way.

Rows. Like a full clone, a backup (and a restored volume) is visible while it is made:
its row is committed at once by a side session (``BackupStarted`` / ``Creating``) and
its progress updated the same way; the job's own transaction makes it ``Ready``. A rerun
after a worker died finds the row and re-attaches to the agent's operation (same op
ids). A failure or cancel removes what was half made: the manifest and the chunks no
other backup uses (the store's GC), or the half-written image, and the row.

Serialization. A backup runs on ``Volume:<uuid>`` like every operation on the volume,
so its snapshot cannot be deleted under it. A restore and a delete of the same backup
serialize on ``VolumeBackup:<uuid>``. Manifests list every chunk, so a backup never
depends on another one's manifest: deleting any backup leaves the others restorable,
and chunks they share are kept (mark-and-sweep with pins, ``volplane.chunking``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from drivers.client import AgentClient
from schemas import backup_requests as rq
from schemas.agent import ChunkStoreRef
from schemas.backup_inventories import backup_inventory
from schemas.backups import BackupMode, BackupStatus, VolumeBackup
from schemas.infra import BackupStorage, Host, PrimaryStorage
from schemas.states import ResourceState
from schemas.storage import Volume, VolumeSnapshot, VolumeStatus
from schemas.storage_inventories import volume_inventory
from schemas.tables import utcnow
from volplane import layout
from volplane.capacity import default_snapshot_capacity
from volplane.catalog import backups as catalog
from volplane.errors import (
    DuplicateResource,
    ResourceInState,
    ResourceNotFound,
    VolplaneError,
)
from volplane.store.tags import add_tags, delete_tags
from volplane.tenancy import get_visible
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted
from workers.operations.host_access import CONNECTED, agent_of, require_usable_host
from workers.operations.primary_storage import refresh_allocated
from workers.operations.volumes import (
    agent_for_pool,
    check_allocate,
    check_pool_open,
    choose_pool,
    place_volume,
    pool_of,
    remove_creating,
    require_ready,
    side_session,
    visible_volume,
)

TICKET_LIFETIME = timedelta(days=1)

# --- helpers ---------------------------------------------------------------------


def _usable_storage(ctx: JobContext, uuid: str, *, new_work: bool) -> BackupStorage:
    # Not locked: side sessions insert rows that name it while this job runs.
    storage = ctx.session.get(BackupStorage, uuid)
    if storage is None:
        raise ResourceNotFound(f"backup storage {uuid} does not exist")
    if new_work and storage.state != ResourceState.ENABLED:
        raise ResourceInState(f"backup storage {uuid} is {storage.state}")
    if storage.status != CONNECTED:
        raise ResourceInState(f"backup storage {uuid} is {storage.status}")
    return storage


def _store_agent(ctx: JobContext, storage: BackupStorage) -> AgentClient:
    host = ctx.session.get(Host, storage.host_uuid)
    if host is None:
        raise ResourceNotFound(f"host {storage.host_uuid} of backup storage does not exist")
    require_usable_host(host, new_work=False)
    return agent_of(ctx, host)


def _store_ref(
    store_agent: AgentClient,
    worker: AgentClient,
    storage: BackupStorage,
    row_created: Any,
    mode: str,
) -> ChunkStoreRef:
    """The store as ``worker`` reaches it: by path on its own host, else with a ticket.

    The expiry derives from the row's creation, so a rerun sends the very same command.
    """
    if worker.base_url == store_agent.base_url:
        return ChunkStoreRef(root=storage.url)
    expires = int((row_created + TICKET_LIFETIME).timestamp())
    return store_agent.chunk_store_ref(storage.url, expires=expires, mode=mode)


def visible_backup(ctx: JobContext, uuid: str) -> VolumeBackup:
    return get_visible(ctx.session, VolumeBackup, uuid, ctx, lock=True)


def _record_usage(ctx: JobContext, storage_uuid: str, store_agent: AgentClient) -> None:
    storage = ctx.session.get(
        BackupStorage, storage_uuid, with_for_update=True, populate_existing=True
    )
    if storage is None:
        return
    usage = store_agent.store_usage(storage.url, op_id=ctx.op_id("usage"))
    storage.used_capacity = usage.stored_bytes
    storage.total_capacity = usage.total_bytes
    storage.available_capacity = usage.available_bytes


def _progress(ctx: JobContext, apply: Callable[[float], Any]) -> Callable[[int], None]:
    """Relays the agent's percent onto the job and, through a side session, the row."""

    def report(percent: int) -> None:
        ctx.progress(percent)
        with side_session(ctx) as session, session.begin():
            session.execute(apply(float(percent)))

    return report


# --- create ----------------------------------------------------------------------


def _source(ctx: JobContext, volume: Volume, snapshot_uuid: str | None) -> str:
    if snapshot_uuid is None:
        return volume.install_path
    snapshot = ctx.session.get(VolumeSnapshot, snapshot_uuid)
    if snapshot is None or snapshot.volume_uuid != volume.uuid:
        raise ResourceNotFound(f"volume {volume.uuid} has no snapshot {snapshot_uuid}")
    if snapshot.status != VolumeStatus.READY:
        raise ResourceInState(f"snapshot {snapshot_uuid} is {snapshot.status}")
    return snapshot.install_path


def _base_backup(ctx: JobContext, req: rq.CreateVolumeBackup, uuid: str) -> VolumeBackup | None:
    if req.mode != BackupMode.INCREMENTAL:
        return None
    return ctx.session.scalars(
        select(VolumeBackup)
        .where(
            VolumeBackup.volume_uuid == req.volumeUuid,
            VolumeBackup.backup_storage_uuid == req.backupStorageUuid,
            VolumeBackup.status == BackupStatus.READY,
            VolumeBackup.uuid != uuid,
        )
        .order_by(VolumeBackup.create_date.desc(), VolumeBackup.uuid.desc())
        .limit(1)
    ).first()


def _begin_backup(
    ctx: JobContext,
    req: rq.CreateVolumeBackup,
    uuid: str,
    volume: Volume,
    base: VolumeBackup | None,
) -> VolumeBackup:
    """The backup's row, committed at once as BackupStarted (or found by a rerun)."""
    with side_session(ctx) as session, session.begin():
        existing = session.get(VolumeBackup, uuid)
        if existing is not None:
            if existing.status != BackupStatus.STARTED or existing.volume_uuid != volume.uuid:
                raise DuplicateResource(f"volume backup {uuid} already exists")
            return existing
        row = VolumeBackup(
            uuid=uuid,
            name=req.name,
            description=req.description,
            volume_uuid=volume.uuid,
            account_uuid=volume.account_uuid,
            backup_storage_uuid=req.backupStorageUuid,
            snapshot_uuid=req.snapshotUuid,
            mode=BackupMode.INCREMENTAL if base is not None else BackupMode.FULL,
            parent_uuid=base.uuid if base is not None else None,
            status=BackupStatus.STARTED,
            progress=0.0,
            size=volume.size,
        )
        session.add(row)
    return row


def create_backup(ctx: JobContext, req: rq.CreateVolumeBackup) -> dict[str, Any]:
    uuid = ctx.resource_uuid
    assert uuid is not None
    volume = visible_volume(ctx, req.volumeUuid)
    require_ready(volume)
    src = _source(ctx, volume, req.snapshotUuid)
    storage = _usable_storage(ctx, req.backupStorageUuid, new_work=True)
    store_agent = _store_agent(ctx, storage)
    volume_agent = agent_for_pool(ctx, pool_of(ctx, volume), host_uuid=volume.host_uuid)
    base = _base_backup(ctx, req, uuid)
    row = _begin_backup(ctx, req, uuid, volume, base)
    ref = _store_ref(store_agent, volume_agent, storage, row.create_date, "rw")
    try:
        made = volume_agent.create_backup(
            ctx.op_id("backup"),
            src,
            uuid,
            ref,
            base_uuid=row.parent_uuid,
            on_progress=_progress(
                ctx,
                lambda p: (
                    update(VolumeBackup)
                    .where(VolumeBackup.uuid == uuid, VolumeBackup.status == BackupStatus.STARTED)
                    .values(progress=p)
                ),
            ),
            should_cancel=lambda: ctx.cancel_requested,
        )
        ctx.checkpoint()  # a cancel that came during the copy still removes it
        backup = ctx.session.get(VolumeBackup, uuid, with_for_update=True, populate_existing=True)
        if backup is None:
            raise ResourceNotFound(f"volume backup {uuid} was deleted while it was being made")
    except VolplaneError:
        _abandon_backup(ctx, uuid, storage, store_agent)
        raise
    backup.status = BackupStatus.READY
    backup.progress = 100.0
    backup.size = made.virtual_size
    backup.data_size = made.data_bytes
    backup.read_bytes = made.read_bytes
    backup.stored_bytes = made.new_stored_bytes
    backup.chunk_count = made.chunk_count
    backup.new_chunk_count = made.new_chunks
    backup.checksum = made.checksum
    backup.last_op_date = utcnow()
    add_tags(ctx.session, uuid, "VolumeBackup", system=req.systemTags, user=req.userTags)
    _record_usage(ctx, storage.uuid, store_agent)
    ctx.session.flush()
    return {"inventory": backup_inventory(backup)}


def _abandon_backup(
    ctx: JobContext, uuid: str, storage: BackupStorage, store_agent: AgentClient
) -> None:
    """Removes a failed or cancelled backup: its manifest, chunks only it used, its row."""
    with contextlib.suppress(VolplaneError):
        store_agent.delete_backup(ctx.op_id("undo-backup"), storage.url, uuid)
    with side_session(ctx) as session, session.begin():
        session.execute(
            delete(VolumeBackup).where(
                VolumeBackup.uuid == uuid, VolumeBackup.status == BackupStatus.STARTED
            )
        )


# --- delete ----------------------------------------------------------------------


def delete_backup(ctx: JobContext, req: rq.DeleteVolumeBackup) -> dict[str, Any]:
    backup = visible_backup(ctx, req.uuid)
    if backup.status == BackupStatus.STARTED:
        raise ResourceInState(f"volume backup {backup.uuid} is being made; cancel its job")
    storage = ctx.session.get(BackupStorage, backup.backup_storage_uuid)
    if storage is not None:
        try:
            store_agent = _store_agent(ctx, storage)
            store_agent.delete_backup(ctx.op_id("delete"), storage.url, backup.uuid)
            _record_usage(ctx, storage.uuid, store_agent)
        except VolplaneError:
            if req.deleteMode != "Enforcing":
                raise
    delete_tags(ctx.session, backup.uuid)
    ctx.session.delete(backup)
    ctx.session.flush()
    return {}


# --- restore ---------------------------------------------------------------------


def _begin_restore(
    ctx: JobContext,
    req: rq.CreateDataVolumeFromBackup,
    uuid: str,
    backup: VolumeBackup,
    dest: PrimaryStorage,
    path: str,
    host_uuid: str | None,
) -> Volume:
    """The new volume's row, committed at once as Creating with its capacity reserved."""
    with side_session(ctx) as session, session.begin():
        pool = session.get(PrimaryStorage, dest.uuid, with_for_update=True)
        existing = session.get(Volume, uuid)
        if existing is not None:
            if existing.status != VolumeStatus.CREATING or existing.install_path != path:
                raise DuplicateResource(f"volume {uuid} already exists")
            return existing
        pool = check_pool_open(ctx, pool, dest.uuid)
        check_allocate(pool, backup.size)
        volume = Volume(
            uuid=uuid,
            name=req.name,
            description=req.description,
            account_uuid=ctx.account_uuid,
            primary_storage_uuid=pool.uuid,
            host_uuid=host_uuid,
            size=backup.size,
            actual_size=0,
            snapshot_size=0,
            snapshot_capacity=default_snapshot_capacity(backup.size),
            install_path=path,
            status=VolumeStatus.CREATING,
            clone_progress=0.0,
        )
        session.add(volume)
        session.flush()
        refresh_allocated(session, pool)
    return volume


def restore_backup(ctx: JobContext, req: rq.CreateDataVolumeFromBackup) -> dict[str, Any]:
    uuid = ctx.resource_uuid
    assert uuid is not None
    backup = visible_backup(ctx, req.backupUuid)
    if backup.status != BackupStatus.READY:
        raise ResourceInState(f"volume backup {backup.uuid} is {backup.status}")
    storage = _usable_storage(ctx, backup.backup_storage_uuid, new_work=False)
    store_agent = _store_agent(ctx, storage)
    dest = choose_pool(ctx, req.primaryStorageUuid, backup.size)
    host_uuid = place_volume(ctx, dest, req.systemTags, backup.size)
    dest_agent = agent_for_pool(ctx, dest, new_work=True, host_uuid=host_uuid)
    path = layout.head_path(dest.mount_path, uuid)
    volume = _begin_restore(ctx, req, uuid, backup, dest, path, host_uuid)
    ref = _store_ref(store_agent, dest_agent, storage, volume.create_date, "r")
    try:
        info = dest_agent.restore_backup(
            ctx.op_id("restore"),
            backup.uuid,
            ref,
            path,
            on_progress=_progress(
                ctx,
                lambda p: (
                    update(Volume)
                    .where(Volume.uuid == uuid, Volume.status == VolumeStatus.CREATING)
                    .values(clone_progress=p)
                ),
            ),
            should_cancel=lambda: ctx.cancel_requested,
        )
        ctx.checkpoint()
        row = ctx.session.get(Volume, uuid, with_for_update=True, populate_existing=True)
        if row is None:
            raise ResourceNotFound(f"volume {uuid} was deleted while it was being restored")
    except VolplaneError:
        remove_creating(ctx, uuid, dest.uuid, path, dest_agent, "undo-restore")
        raise
    row.status = VolumeStatus.READY
    row.size = info.virtual_size
    row.actual_size = info.actual_size or 0
    row.clone_progress = 100.0
    add_tags(ctx.session, uuid, "Volume", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": volume_inventory(row)}


RUNS: Runs = {
    catalog.CREATE_VOLUME_BACKUP: create_backup,
    catalog.DELETE_VOLUME_BACKUP: absent_is_deleted(VolumeBackup, delete_backup),
    catalog.CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP: restore_backup,
}
