"""Volume backup operations, declared: ``workers/operations/backups.py`` runs them."""

from __future__ import annotations

from schemas import backup_requests as rq
from volplane.operation import Operation


def _on_volume(req: rq.CreateVolumeBackup, resource_uuid: str | None) -> str:
    return f"Volume:{req.volumeUuid}"


def _on_backup(req: rq.CreateDataVolumeFromBackup, resource_uuid: str | None) -> str:
    return f"VolumeBackup:{req.backupUuid}"


CREATE_VOLUME_BACKUP = Operation(
    "CreateVolumeBackup", rq.CreateVolumeBackup, "VolumeBackup", sync_key=_on_volume
)
DELETE_VOLUME_BACKUP = Operation("DeleteVolumeBackup", rq.DeleteVolumeBackup, "VolumeBackup")
CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP = Operation(
    "CreateDataVolumeFromVolumeBackup", rq.CreateDataVolumeFromBackup, "Volume", sync_key=_on_backup
)
