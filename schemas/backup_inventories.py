"""Volume backup inventories (ZStack camelCase)."""

from __future__ import annotations

from typing import Any

from schemas.backups import VolumeBackup
from schemas.inventories import iso


def backup_inventory(backup: VolumeBackup) -> dict[str, Any]:
    return {
        "uuid": backup.uuid,
        "name": backup.name,
        "description": backup.description,
        "volumeUuid": backup.volume_uuid,
        "accountUuid": backup.account_uuid,
        "backupStorageUuid": backup.backup_storage_uuid,
        "snapshotUuid": backup.snapshot_uuid,
        "mode": backup.mode,
        "parentUuid": backup.parent_uuid,
        "type": "Chunked",
        "status": backup.status,
        "progress": backup.progress,
        "size": backup.size,
        "dataSize": backup.data_size,
        "readBytes": backup.read_bytes,
        "storedBytes": backup.stored_bytes,
        "chunkCount": backup.chunk_count,
        "newChunkCount": backup.new_chunk_count,
        "checksum": backup.checksum,
        "createDate": iso(backup.create_date),
        "lastOpDate": iso(backup.last_op_date),
    }
