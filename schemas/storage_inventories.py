"""Volume and snapshot inventories (ZStack camelCase)."""

from __future__ import annotations

from typing import Any

from schemas.agent import ManageableImage
from schemas.infra import PrimaryStorage
from schemas.inventories import iso
from schemas.storage import Volume, VolumeSnapshot


def volume_inventory(volume: Volume) -> dict[str, Any]:
    return {
        "uuid": volume.uuid,
        "name": volume.name,
        "description": volume.description,
        "type": volume.type,
        "format": volume.format,
        "primaryStorageUuid": volume.primary_storage_uuid,
        "hostUuid": volume.host_uuid,
        "accountUuid": volume.account_uuid,
        "size": volume.size,
        "actualSize": volume.actual_size,
        "snapshotSize": volume.snapshot_size,
        "snapshotCapacity": volume.snapshot_capacity,
        "state": volume.state,
        "status": volume.status,
        "parentSnapshotUuid": volume.parent_snapshot_uuid,
        "currentSnapshotUuid": volume.current_snapshot_uuid,
        "cloneProgress": volume.clone_progress,
        "installPath": volume.install_path,
        "createDate": iso(volume.create_date),
        "lastOpDate": iso(volume.last_op_date),
    }


def snapshot_inventory(snapshot: VolumeSnapshot) -> dict[str, Any]:
    return {
        "uuid": snapshot.uuid,
        "name": snapshot.name,
        "description": snapshot.description,
        "volumeUuid": snapshot.volume_uuid,
        "accountUuid": snapshot.account_uuid,
        "primaryStorageUuid": snapshot.primary_storage_uuid,
        "parentUuid": snapshot.parent_uuid,
        "type": "Storage",
        "format": "qcow2",
        "size": snapshot.size,
        "volumeSize": snapshot.volume_size,
        "state": snapshot.state,
        "status": snapshot.status,
        "primaryStorageInstallPath": snapshot.install_path,
        "createDate": iso(snapshot.create_date),
        "lastOpDate": iso(snapshot.last_op_date),
    }


def manageable_inventory(image: ManageableImage, pool: PrimaryStorage) -> dict[str, Any]:
    """One entry of ``GET /v1/primary-storage/{ps}/manageable-volumes``."""
    return {
        "sourceName": image.name,
        "installPath": image.path,
        "primaryStorageUuid": pool.uuid,
        "format": image.format,
        "size": image.virtual_size if image.virtual_size is not None else image.file_size,
        "actualSize": image.actual_size,
        "backingFile": image.backing_file,
        "safeToManage": image.safe_to_manage,
        "reasonNotSafe": reason_not_safe(image),
        "reasons": [{"code": r.code, "message": r.message} for r in image.reasons],
        "volumeUuid": image.volume_uuid,
    }


def reason_not_safe(image: ManageableImage) -> str | None:
    if image.safe_to_manage:
        return None
    return "; ".join(reason.message for reason in image.reasons)
