"""Request models of adopting existing images (CONTRACT §5 manageable volumes, §9)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from schemas.requests import Description, Name, ResourceRef, Tagged, Uuid

# A file in the pool, by its path relative to the pool's directory (as listed).
SourceName = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class ManageVolume(Tagged):
    """Adopt the image ``sourceName`` of the pool as a new volume, in place."""

    primaryStorageUuid: Uuid
    sourceName: SourceName
    name: Name | None = None  # default: the source name
    description: Description | None = None
    snapshotCapacity: int | None = Field(default=None, ge=0)
    # Admins may adopt an image for another account (the Cinder dialect's project_id).
    accountUuid: Uuid | None = None
    resourceUuid: Uuid | None = None

    @field_validator("sourceName")
    @classmethod
    def _inside_the_pool(cls, value: str) -> str:
        parts = value.split("/")
        if value.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError("must be a path relative to the pool, without '.' or '..' parts")
        return value


class UnmanageVolume(ResourceRef):
    """Forget the volume but keep its image file."""
