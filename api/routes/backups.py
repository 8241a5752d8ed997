"""``/v1/volume-backups``, ``/v1/volumes/{uuid}/volume-backups`` and restore into a new
volume, ``/v1/volumes/data/from/volume-backups/{uuid}`` (CONTRACT §5; issue 5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.handlers import create_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, F, I, S, fields
from schemas.backup_inventories import backup_inventory
from schemas.backups import VolumeBackup
from schemas.infra import BackupStorage
from schemas.storage import Volume, VolumeSnapshot
from volplane.catalog.backups import (
    CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP,
    CREATE_VOLUME_BACKUP,
    DELETE_VOLUME_BACKUP,
)

create_backup = create_endpoint(
    CREATE_VOLUME_BACKUP, name="create_backup", from_path={"volumeUuid": "volumeUuid"}
)


async def list_backups(request: Request) -> Response:
    return await list_collection(request, "volumeBackup")


delete_backup = delete_endpoint(DELETE_VOLUME_BACKUP, name="delete_backup")


restore_backup = create_endpoint(
    CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP,
    name="restore_backup",
    from_path={"backupUuid": "backupUuid"},
)


ROUTES = [
    Route("/v1/volumes/{volumeUuid}/volume-backups", create_backup, methods=["POST"]),
    Route("/v1/volumes/data/from/volume-backups/{backupUuid}", restore_backup, methods=["POST"]),
    Route("/v1/volume-backups", list_backups, methods=["GET"]),
    Route("/v1/volume-backups/{uuid}", list_backups, methods=["GET"]),
    Route("/v1/volume-backups/{uuid}", delete_backup, methods=["DELETE"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="volumeBackup",
            model=VolumeBackup,
            fields=fields(
                ("uuid", VolumeBackup.uuid, S),
                ("name", VolumeBackup.name, S),
                ("description", VolumeBackup.description, S),
                ("volumeUuid", VolumeBackup.volume_uuid, S),
                ("accountUuid", VolumeBackup.account_uuid, S),
                ("backupStorageUuid", VolumeBackup.backup_storage_uuid, S),
                ("snapshotUuid", VolumeBackup.snapshot_uuid, S),
                ("mode", VolumeBackup.mode, S),
                ("parentUuid", VolumeBackup.parent_uuid, S),
                ("status", VolumeBackup.status, S),
                ("progress", VolumeBackup.progress, F),
                ("size", VolumeBackup.size, I),
                ("dataSize", VolumeBackup.data_size, I),
                ("readBytes", VolumeBackup.read_bytes, I),
                ("storedBytes", VolumeBackup.stored_bytes, I),
                ("chunkCount", VolumeBackup.chunk_count, I),
                ("newChunkCount", VolumeBackup.new_chunk_count, I),
                ("checksum", VolumeBackup.checksum, S),
                ("createDate", VolumeBackup.create_date, D),
                ("lastOpDate", VolumeBackup.last_op_date, D),
            ),
            relations={
                "volume": QueryRelation("volume", "volume", VolumeBackup.volume_uuid, Volume.uuid),
                "snapshot": QueryRelation(
                    "snapshot", "volumeSnapshot", VolumeBackup.snapshot_uuid, VolumeSnapshot.uuid
                ),
                "backupStorage": QueryRelation(
                    "backupStorage",
                    "backupStorage",
                    VolumeBackup.backup_storage_uuid,
                    BackupStorage.uuid,
                ),
                "parent": QueryRelation(
                    "parent", "volumeBackup", VolumeBackup.parent_uuid, VolumeBackup.uuid
                ),
            },
            tag_resource_type="VolumeBackup",
        ),
        backup_inventory,
    )
]
