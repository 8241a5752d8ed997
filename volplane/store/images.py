"""Which volume owns which file of a pool (heads, snapshot images, bases)."""

from __future__ import annotations

import posixpath

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.storage import Volume, VolumeSnapshot
from schemas.tables import ResourceTag
from volplane.backing import ImageOwner, ImageRole

MANAGED_RAW_TAG = "volplane::managed::raw"
"""The system tag of a volume adopted from a raw image: its base is its own data."""


def image_owners(session: Session, pool_uuid: str) -> dict[str, ImageOwner]:
    """Every file of the pool a volume owns, by normalised path. A snapshot image wins
    over the same file seen as a linked clone's base."""
    owners: dict[str, ImageOwner] = {}
    volumes = list(session.scalars(select(Volume).where(Volume.primary_storage_uuid == pool_uuid)))
    raw = set(
        session.scalars(
            select(ResourceTag.resource_uuid).where(
                ResourceTag.resource_uuid.in_([v.uuid for v in volumes]),
                ResourceTag.tag_type == "system",
                ResourceTag.tag == MANAGED_RAW_TAG,
            )
        )
    )
    for volume in volumes:
        owners[posixpath.normpath(volume.install_path)] = ImageOwner(
            volume.uuid, volume.account_uuid, ImageRole.HEAD
        )
    for volume in volumes:
        if volume.base_path is not None:
            role = ImageRole.DATA if volume.uuid in raw else ImageRole.BASE
            key = posixpath.normpath(volume.base_path)
            if role is ImageRole.DATA or key not in owners:
                owners[key] = ImageOwner(volume.uuid, volume.account_uuid, role)
    snapshots = session.scalars(
        select(VolumeSnapshot).where(VolumeSnapshot.primary_storage_uuid == pool_uuid)
    )
    for snapshot in snapshots:
        owners[posixpath.normpath(snapshot.install_path)] = ImageOwner(
            snapshot.volume_uuid, snapshot.account_uuid, ImageRole.SNAPSHOT, snapshot.uuid
        )
    return owners
