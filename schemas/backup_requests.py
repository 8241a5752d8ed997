"""Request models of backup operations (ZStack field names; CONTRACT §5)."""

from __future__ import annotations

from typing import Literal

from schemas.requests import Description, Name, RequestModel, Tagged, Uuid


class CreateVolumeBackup(Tagged):
    volumeUuid: Uuid
    backupStorageUuid: Uuid
    name: Name
    description: Description | None = None
    # None: the volume's current state. Else one of the volume's snapshots.
    snapshotUuid: Uuid | None = None
    # incremental: against the volume's last Ready backup on the same storage (full if none).
    mode: Literal["full", "incremental"] = "full"
    resourceUuid: Uuid | None = None


class DeleteVolumeBackup(RequestModel):
    uuid: Uuid
    deleteMode: Literal["Permissive", "Enforcing"] = "Permissive"


class CreateDataVolumeFromBackup(Tagged):
    backupUuid: Uuid
    name: Name
    primaryStorageUuid: Uuid | None = None
    description: Description | None = None
    resourceUuid: Uuid | None = None
