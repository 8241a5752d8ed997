"""Backup storage operations (ZStack §4.5): ``image-store``, a directory on a host.

The directory is connected through the host's agent like a pool (``pool.connect``,
created if missing), so backup chunks written later stay inside it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from schemas import infra_requests as rq
from schemas.infra import BackupStorage, Host, ZoneBackupStorage
from schemas.infra_inventories import backup_storage_inventory
from schemas.requests import DeleteResource
from schemas.states import ResourceState
from schemas.tables import Zone, utcnow
from volplane.catalog import backup_storage as catalog
from volplane.errors import (
    AgentError,
    DuplicateResource,
    InvalidParameter,
    ResourceNotFound,
)
from volplane.store.tags import add_tags, delete_tags
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted, get_or_404
from workers.operations.host_access import CONNECTED, agent_of, require_usable_host

IMAGE_STORE = "ImageStoreBackupStorage"


def connect_backup_storage(
    ctx: JobContext, storage: BackupStorage, host: Host, *, step: str
) -> None:
    found = agent_of(ctx, host).connect_pool(storage.url, create=True, op_id=ctx.op_id(step))
    storage.url = found.root
    storage.total_capacity = found.total_bytes
    storage.available_capacity = found.available_bytes
    storage.status = CONNECTED


def _host_for(ctx: JobContext, req: rq.AddImageStoreBackupStorage) -> Host:
    if req.hostUuid is not None:
        return get_or_404(ctx.session, Host, req.hostUuid, "host")
    if req.hostname is None:
        raise InvalidParameter("image-store backup storage needs hostUuid or hostname")
    hosts = list(
        ctx.session.scalars(
            select(Host).where(Host.management_ip == req.hostname).order_by(Host.create_date)
        )
    )
    if not hosts:
        raise ResourceNotFound(f"no host with managementIp {req.hostname}; add the host first")
    connected = [h for h in hosts if h.status == CONNECTED]
    if len(connected) > 1:
        raise InvalidParameter(
            f"{len(connected)} hosts have managementIp {req.hostname}; pass hostUuid instead"
        )
    return connected[0] if connected else hosts[0]


def add_image_store(ctx: JobContext, req: rq.AddImageStoreBackupStorage) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    if ctx.session.get(BackupStorage, ctx.resource_uuid) is not None:
        raise DuplicateResource(f"backup storage {ctx.resource_uuid} already exists")
    if not req.url.startswith("/"):
        raise InvalidParameter(f"url {req.url!r} must be an absolute directory path")
    host = _host_for(ctx, req)
    require_usable_host(host)
    for other in ctx.session.scalars(
        select(BackupStorage).where(BackupStorage.host_uuid == host.uuid)
    ):
        if other.url.rstrip("/") == req.url.rstrip("/"):
            raise DuplicateResource(f"{req.url} is already backup storage {other.uuid}")
    storage = BackupStorage(
        uuid=ctx.resource_uuid,
        name=req.name,
        description=req.description,
        type=IMAGE_STORE,
        url=req.url,
        host_uuid=host.uuid,
    )
    connect_backup_storage(ctx, storage, host, step="connect")
    ctx.session.add(storage)
    add_tags(ctx.session, storage.uuid, "BackupStorage", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": backup_storage_inventory(storage)}


def attach_to_zone(ctx: JobContext, req: rq.AttachBackupStorage) -> dict[str, Any]:
    storage = get_or_404(ctx.session, BackupStorage, req.backupStorageUuid, "backup storage")
    get_or_404(ctx.session, Zone, req.zoneUuid, "zone")
    if any(ref.zone_uuid == req.zoneUuid for ref in storage.zone_refs):
        raise DuplicateResource(f"backup storage {storage.uuid} is already in zone {req.zoneUuid}")
    storage.zone_refs.append(
        ZoneBackupStorage(zone_uuid=req.zoneUuid, backup_storage_uuid=storage.uuid)
    )
    storage.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": backup_storage_inventory(storage)}


def detach_from_zone(ctx: JobContext, req: rq.AttachBackupStorage) -> dict[str, Any]:
    storage = get_or_404(ctx.session, BackupStorage, req.backupStorageUuid, "backup storage")
    ref = next((r for r in storage.zone_refs if r.zone_uuid == req.zoneUuid), None)
    if ref is None:
        raise ResourceNotFound(f"backup storage {storage.uuid} is not in zone {req.zoneUuid}")
    storage.zone_refs.remove(ref)
    storage.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": backup_storage_inventory(storage)}


def reconnect(ctx: JobContext, req: rq.ReconnectBackupStorage) -> dict[str, Any]:
    storage = get_or_404(ctx.session, BackupStorage, req.uuid, "backup storage")
    host = get_or_404(ctx.session, Host, storage.host_uuid, "host")
    require_usable_host(host, new_work=False)
    connect_backup_storage(ctx, storage, host, step="connect")
    storage.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": backup_storage_inventory(storage)}


def change_state(ctx: JobContext, req: rq.ChangeBackupStorageState) -> dict[str, Any]:
    storage = get_or_404(ctx.session, BackupStorage, req.uuid, "backup storage")
    storage.state = ResourceState.ENABLED if req.stateEvent == "enable" else ResourceState.DISABLED
    storage.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": backup_storage_inventory(storage)}


def update(ctx: JobContext, req: rq.UpdateBackupStorage) -> dict[str, Any]:
    storage = get_or_404(ctx.session, BackupStorage, req.uuid, "backup storage")
    if req.name is not None:
        storage.name = req.name
    if req.description is not None:
        storage.description = req.description
    storage.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": backup_storage_inventory(storage)}


def delete_backup_storage(ctx: JobContext, req: DeleteResource) -> dict[str, Any]:
    """The agent stops serving the directory; the chunks in it stay on disk."""
    storage = get_or_404(ctx.session, BackupStorage, req.uuid, "backup storage")
    host = ctx.session.get(Host, storage.host_uuid)
    if host is not None and host.status == CONNECTED:
        try:
            agent_of(ctx, host).disconnect_pool(storage.url, op_id=ctx.op_id("release"))
        except AgentError:
            if req.deleteMode != "Enforcing":
                raise
    delete_tags(ctx.session, storage.uuid)
    ctx.session.delete(storage)
    ctx.session.flush()
    return {}


RUNS: Runs = {
    catalog.ADD_IMAGE_STORE_BACKUP_STORAGE: add_image_store,
    catalog.ATTACH_BACKUP_STORAGE_TO_ZONE: attach_to_zone,
    catalog.DETACH_BACKUP_STORAGE_FROM_ZONE: detach_from_zone,
    catalog.RECONNECT_BACKUP_STORAGE: reconnect,
    catalog.CHANGE_BACKUP_STORAGE_STATE: change_state,
    catalog.UPDATE_BACKUP_STORAGE: update,
    catalog.DELETE_BACKUP_STORAGE: absent_is_deleted(BackupStorage, delete_backup_storage),
}
