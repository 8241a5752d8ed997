"""Volume and snapshot inventories (ZStack camelCase)."""

from __future__ import annotations

from typing import Any

from schemas.agent import ManageableImage
from schemas.infra import PrimaryStorage
from schemas.inventories import iso
from schemas.storage import DiskOffering, Volume, VolumeSnapshot
from schemas.zstack_wire import VOLUME_TYPE_NAMES, shown


def volume_inventory(volume: Volume) -> dict[str, Any]:
    """ZStack's VolumeInventory (fields without meaning here carry ZStack's empty
    value: a data volume attached to no VM), then volplane's own fields."""
    return {
        "uuid": volume.uuid,
        "name": volume.name,
        "description": volume.description,
        "type": shown(VOLUME_TYPE_NAMES, volume.type),
        "kind": volume.type,
        "format": volume.format,
        "vmInstanceUuid": None,
        "diskOfferingUuid": volume.disk_offering_uuid,
        "rootImageUuid": None,
        "deviceId": None,
        "isShareable": False,
        "volumeQos": None,
        "lastAttachDate": None,
        "lastDetachDate": None,
        "lastVmInstanceUuid": None,
        "protocol": None,
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
    """ZStack's VolumeSnapshotInventory, then volplane's own fields. A volume has one
    snapshot tree here, so the tree's uuid is the volume's; ``latest``: the volume's
    head sits on this snapshot."""
    return {
        "uuid": snapshot.uuid,
        "name": snapshot.name,
        "description": snapshot.description,
        "volumeUuid": snapshot.volume_uuid,
        "treeUuid": snapshot.volume_uuid,
        "volumeType": "Data",
        "accountUuid": snapshot.account_uuid,
        "primaryStorageUuid": snapshot.primary_storage_uuid,
        "parentUuid": snapshot.parent_uuid,
        "type": "Storage",
        "format": "qcow2",
        "latest": bool(snapshot.latest),  # type: ignore[attr-defined]
        "distance": 0,
        "groupUuid": None,
        "backupStorageRefs": [],
        "size": snapshot.size,
        "volumeSize": snapshot.volume_size,
        "state": snapshot.state,
        "status": snapshot.status,
        "primaryStorageInstallPath": snapshot.install_path,
        "createDate": iso(snapshot.create_date),
        "lastOpDate": iso(snapshot.last_op_date),
    }


def disk_offering_inventory(offering: DiskOffering) -> dict[str, Any]:
    """ZStack's DiskOfferingInventory."""
    return {
        "uuid": offering.uuid,
        "name": offering.name,
        "description": offering.description,
        "diskSize": offering.disk_size,
        "sortKey": offering.sort_key,
        "state": offering.state,
        "type": offering.type,
        "allocatorStrategy": offering.allocator_strategy,
        "createDate": iso(offering.create_date),
        "lastOpDate": iso(offering.last_op_date),
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
