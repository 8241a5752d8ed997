"""ZStack's global configurations that act on volplane: the volume deletion policy.

ZStack keeps them as ``category.name`` entries changed with UpdateGlobalConfig; here
each starts at its setting (``VOLPLANE_VOLUME_DELETION_POLICY``, ...) and a changed
value is kept as a system tag (resource type ``ZStackGlobalConfig``), so every
gateway and worker reads the same value from the database. ZStack's defaults:
``volume.deletionPolicy`` Delay, ``volume.expungePeriod`` 259200 s (3 days),
``volume.expungeInterval`` 3600 s (here the setting ``volume_expunge_interval_seconds``,
the period of the beat that looks for volumes to expunge, not changeable at run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schemas.tables import ResourceTag
from volplane.errors import InvalidParameter, ResourceNotFound
from volplane.settings import Settings

RESOURCE_TYPE = "ZStackGlobalConfig"
SCOPE = "zstack-global-config"
_SEPARATOR = "::"
DeletionPolicy = Literal["Direct", "Delay", "Never"]
POLICIES: tuple[DeletionPolicy, ...] = ("Direct", "Delay", "Never")


@dataclass(frozen=True)
class ConfigEntry:
    category: str
    name: str
    description: str

    @property
    def key(self) -> str:
        return f"{self.category}.{self.name}"


ENTRIES = (
    ConfigEntry(
        "volume",
        "deletionPolicy",
        "What deleting a data volume does: Direct removes it and its images; Delay makes "
        "it Deleted, recoverable until expunged after expungePeriod; Never forgets it and "
        "leaves its images on the primary storage.",
    ),
    ConfigEntry(
        "volume",
        "expungePeriod",
        "Seconds a Deleted data volume stays recoverable before it is expunged.",
    ),
)


def defaults(settings: Settings) -> dict[str, str]:
    return {
        "volume.deletionPolicy": settings.volume_deletion_policy,
        "volume.expungePeriod": str(settings.volume_expunge_period_seconds),
    }


def entry(category: str, name: str) -> ConfigEntry:
    for candidate in ENTRIES:
        if (candidate.category, candidate.name) == (category, name):
            return candidate
    raise ResourceNotFound(f"global config {category}.{name} does not exist here")


def checked(config: ConfigEntry, value: str) -> str:
    """The value if valid for ``config`` (a 400 otherwise), as ZStack validates it."""
    if config.name == "deletionPolicy":
        if value not in POLICIES:
            raise InvalidParameter(f"volume.deletionPolicy must be one of {', '.join(POLICIES)}")
        return value
    try:
        number = int(value)
    except ValueError:
        raise InvalidParameter(f"{config.key} must be a whole number of seconds") from None
    if number <= 0:
        raise InvalidParameter(f"{config.key} must be positive")
    return str(number)


def values(session: Session, settings: Settings) -> dict[str, str]:
    """Every entry's value in force, by ``category.name``."""
    found = dict(defaults(settings))
    tags = session.scalars(
        select(ResourceTag.tag).where(
            ResourceTag.resource_uuid == SCOPE, ResourceTag.resource_type == RESOURCE_TYPE
        )
    )
    for tag in tags:
        key, _, value = tag.partition(_SEPARATOR)
        if key in found:
            found[key] = value
    return found


def update(session: Session, config: ConfigEntry, value: str) -> None:
    session.execute(
        delete(ResourceTag).where(
            ResourceTag.resource_uuid == SCOPE,
            ResourceTag.resource_type == RESOURCE_TYPE,
            ResourceTag.tag.like(f"{config.key}{_SEPARATOR}%"),
        )
    )
    session.add(
        ResourceTag(
            resource_uuid=SCOPE,
            resource_type=RESOURCE_TYPE,
            tag_type="system",
            tag=f"{config.key}{_SEPARATOR}{checked(config, value)}",
        )
    )
    session.flush()


@dataclass(frozen=True)
class VolumeDeletion:
    policy: DeletionPolicy
    expunge_period_seconds: int


def volume_deletion(session: Session, settings: Settings) -> VolumeDeletion:
    found = values(session, settings)
    policy = next(
        (p for p in POLICIES if p == found["volume.deletionPolicy"]),
        settings.volume_deletion_policy,
    )
    return VolumeDeletion(
        policy=policy,
        expunge_period_seconds=int(found["volume.expungePeriod"]),
    )
