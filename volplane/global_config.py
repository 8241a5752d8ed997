"""Cluster-wide settings of the share-storage dialect (seed 003 get/set/global/config).

They are kept as system tags (``resource_tags``, resource type ``GlobalConfig``) on
the cluster's uuid, or on ``global`` for values set without a cluster, so every
gateway and worker reads the same values from the database and no table is needed.
A cluster's value wins over the global one, which wins over the default.

``StorOverAllocationThreshold`` is the one that acts on storage: setting it applies
it to every pool of the cluster (``UpdateGlobalConfig``), and pools created through
the share-storage dialect in that cluster start with it. The CPU, memory and data
disk thresholds are stored and answered; volplane runs no compute to apply them to.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schemas.tables import ResourceTag

RESOURCE_TYPE = "GlobalConfig"
GLOBAL_SCOPE = "global"
STORAGE_THRESHOLD = "StorOverAllocationThreshold"
KEYS = (
    STORAGE_THRESHOLD,
    "CPUOverAllocationThreshold",
    "MemOverAllocationThreshold",
    "USDOverAllocationThreshold",
)
DEFAULTS: dict[str, float] = dict.fromkeys(KEYS, 1.0)
_SEPARATOR = "::"


def _stored(session: Session, scope: str) -> dict[str, float]:
    tags = session.scalars(
        select(ResourceTag.tag).where(
            ResourceTag.resource_uuid == scope, ResourceTag.resource_type == RESOURCE_TYPE
        )
    )
    values: dict[str, float] = {}
    for tag in tags:
        key, _, raw = tag.partition(_SEPARATOR)
        if key in DEFAULTS:
            try:
                values[key] = float(raw)
            except ValueError:
                continue
    return values


def read(session: Session, cluster_uuid: str | None) -> dict[str, float]:
    """The values in force for the cluster (None: the global ones)."""
    values = {**DEFAULTS, **_stored(session, GLOBAL_SCOPE)}
    if cluster_uuid is not None:
        values.update(_stored(session, cluster_uuid))
    return values


def write(session: Session, cluster_uuid: str | None, changes: Mapping[str, float]) -> None:
    """Sets some keys for the cluster (None: globally); the others keep their value."""
    scope = cluster_uuid or GLOBAL_SCOPE
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown global config keys {sorted(unknown)}")
    session.execute(
        delete(ResourceTag).where(
            ResourceTag.resource_uuid == scope,
            ResourceTag.resource_type == RESOURCE_TYPE,
            ResourceTag.tag.in_([t for k in changes for t in _tags_of(session, scope, k)]),
        )
    )
    for key, value in changes.items():
        session.add(
            ResourceTag(
                resource_uuid=scope,
                resource_type=RESOURCE_TYPE,
                tag_type="system",
                tag=f"{key}{_SEPARATOR}{value!r}",
            )
        )
    session.flush()


def _tags_of(session: Session, scope: str, key: str) -> list[str]:
    return list(
        session.scalars(
            select(ResourceTag.tag).where(
                ResourceTag.resource_uuid == scope,
                ResourceTag.resource_type == RESOURCE_TYPE,
                ResourceTag.tag.like(f"{key}{_SEPARATOR}%"),
            )
        )
    )
