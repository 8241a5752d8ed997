"""Backup storage operations, declared: ``workers/operations/backup_storage.py`` runs them."""

from __future__ import annotations

from schemas import infra_requests as rq
from schemas.requests import DeleteResource
from volplane.operation import Operation


def _on_storage(req: rq.AttachBackupStorage, resource_uuid: str | None) -> str:
    return f"BackupStorage:{req.backupStorageUuid}"


ADD_IMAGE_STORE_BACKUP_STORAGE = Operation(
    "AddImageStoreBackupStorage", rq.AddImageStoreBackupStorage, "BackupStorage", admin_only=True
)
ATTACH_BACKUP_STORAGE_TO_ZONE = Operation(
    "AttachBackupStorageToZone",
    rq.AttachBackupStorage,
    "BackupStorage",
    admin_only=True,
    sync_key=_on_storage,
)
DETACH_BACKUP_STORAGE_FROM_ZONE = Operation(
    "DetachBackupStorageFromZone",
    rq.AttachBackupStorage,
    "BackupStorage",
    admin_only=True,
    sync_key=_on_storage,
)
RECONNECT_BACKUP_STORAGE = Operation(
    "ReconnectBackupStorage", rq.ReconnectBackupStorage, "BackupStorage", admin_only=True
)
CHANGE_BACKUP_STORAGE_STATE = Operation(
    "ChangeBackupStorageState", rq.ChangeBackupStorageState, "BackupStorage", admin_only=True
)
UPDATE_BACKUP_STORAGE = Operation(
    "UpdateBackupStorage", rq.UpdateBackupStorage, "BackupStorage", admin_only=True
)
DELETE_BACKUP_STORAGE = Operation(
    "DeleteBackupStorage", DeleteResource, "BackupStorage", admin_only=True
)
