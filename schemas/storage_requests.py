"""Request models of volume, snapshot and clone operations (ZStack field names)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from schemas.requests import (
    Description,
    Name,
    RequestModel,
    ResourceRef,
    Tagged,
    Uuid,
    VolumeSize,
)


class CreateDataVolume(Tagged):
    """From a disk offering (ZStack 3.x's way), a size, or a backing file. A size of 0
    means none (ZStack's Java SDK always sends one)."""

    name: Name
    diskOfferingUuid: Uuid | None = None
    # 0 means none (ZStack's Java SDK sends it beside an offering).
    diskSize: VolumeSize | Literal[0] | None = None
    primaryStorageUuid: Uuid | None = None
    backingFile: str | None = Field(default=None, min_length=1, max_length=1024)
    description: Description | None = None
    # Bound on the space snapshots may take; default three times the size (seed 001).
    snapshotCapacity: int | None = Field(default=None, ge=0)
    resourceUuid: Uuid | None = None

    @model_validator(mode="after")
    def _has_a_size(self) -> Self:
        if not self.diskSize and self.diskOfferingUuid is None and self.backingFile is None:
            raise ValueError("a data volume needs diskOfferingUuid, diskSize or backingFile")
        return self


class CreateDiskOffering(Tagged):
    name: Name
    description: Description | None = None
    diskSize: int = Field(gt=0)
    sortKey: int = 0
    allocationStrategy: str | None = Field(default=None, max_length=255)
    type: str | None = Field(default=None, max_length=64)
    resourceUuid: Uuid | None = None


class UpdateDiskOffering(ResourceRef):
    name: Name | None = None
    description: Description | None = None


class ChangeDiskOfferingState(ResourceRef):
    stateEvent: Literal["enable", "disable"]


class DeleteVolume(ResourceRef):
    force: bool = False
    deleteMode: Literal["Permissive", "Enforcing"] = "Permissive"
    # Set by dialects whose delete is always one kind (share-storage: Direct); absent,
    # ZStack's global config volume.deletionPolicy decides.
    deletionPolicy: Literal["Direct", "Delay", "Never"] | None = None


class ResizeDataVolume(ResourceRef):
    size: VolumeSize


class UpdateVolume(ResourceRef):
    name: Name | None = None
    description: Description | None = None
    snapshotCapacity: int | None = Field(default=None, ge=0)


class ChangeVolumeState(ResourceRef):
    stateEvent: Literal["enable", "disable"]


class VolumeRef(ResourceRef):
    """Actions that need only the volume: syncVolumeSize, flattenVolume."""


class CreateVolumeSnapshot(Tagged):
    volumeUuid: Uuid
    name: Name
    description: Description | None = None
    resourceUuid: Uuid | None = None


class SnapshotRef(RequestModel):
    uuid: Uuid
    # Filled in by the gateway: the snapshot's volume, the key the job serializes on
    # (None when the snapshot was not found; the job then answers not found).
    volumeUuid: Uuid | None = None


class DeleteVolumeSnapshot(SnapshotRef):
    deleteMode: Literal["Permissive", "Enforcing"] = "Permissive"


class RevertVolumeFromSnapshot(SnapshotRef):
    pass


class UpdateVolumeSnapshot(SnapshotRef):
    name: Name | None = None
    description: Description | None = None


class CreateDataVolumeFromSnapshot(Tagged):
    snapshotUuid: Uuid
    # Filled in by the gateway: the source snapshot's volume (the job serializes on it).
    sourceVolumeUuid: Uuid | None = None
    name: Name
    primaryStorageUuid: Uuid | None = None
    linked: bool = False
    description: Description | None = None
    resourceUuid: Uuid | None = None


class LocalStorageMigrateVolume(RequestModel):
    """``PUT /v1/primary-storage/local-storage/volumes/{volumeUuid}/actions``
    ``{"localStorageMigrateVolume": {"destHostUuid"}}``."""

    volumeUuid: Uuid
    destHostUuid: Uuid
