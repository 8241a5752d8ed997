"""Reads about infrastructure that the gateway answers synchronously."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.infra import BackupStorage, ClusterPrimaryStorage, Host, PrimaryStorage
from schemas.states import HostStatus
from volplane.tenancy import ADMIN, Actor, visible

POOL_TYPES = ("local-storage", "smp", "disk", "nfs", "samba")


def pool_type_support(session: Session) -> tuple[list[str], dict[str, str]]:
    """Types some connected host can run, and why the others cannot run anywhere."""
    supported: set[str] = set()
    reasons: dict[str, list[str]] = {}
    hosts = session.scalars(select(Host).where(Host.status == HostStatus.CONNECTED))
    for host in hosts:
        facts: dict[str, Any] = host.facts or {}
        supported.update(facts.get("poolTypes", []))
        for kind, why in facts.get("unsupportedPoolTypes", {}).items():
            reasons.setdefault(kind, []).append(f"{host.name}: {why}")
    unsupported = {
        kind: "; ".join(reasons.get(kind, ["no connected host reports support for it"]))
        for kind in POOL_TYPES
        if kind not in supported
    }
    return [t for t in POOL_TYPES if t in supported], unsupported


def pools_for_capacity(
    session: Session,
    *,
    pool_uuids: Sequence[str] = (),
    zone_uuids: Sequence[str] = (),
    cluster_uuids: Sequence[str] = (),
    actor: Actor = ADMIN,
) -> list[PrimaryStorage]:
    """Pools ``actor`` may see matching every given filter (none given: all pools)."""
    statement = select(PrimaryStorage)
    if pool_uuids:
        statement = statement.where(PrimaryStorage.uuid.in_(pool_uuids))
    if zone_uuids:
        statement = statement.where(PrimaryStorage.zone_uuid.in_(zone_uuids))
    if cluster_uuids:
        attached = select(ClusterPrimaryStorage.primary_storage_uuid).where(
            ClusterPrimaryStorage.cluster_uuid.in_(cluster_uuids)
        )
        statement = statement.where(PrimaryStorage.uuid.in_(attached))
    statement = statement.where(visible(PrimaryStorage, actor))
    return list(session.scalars(statement))


def backup_storage_for_capacity(
    session: Session, *, uuids: Sequence[str] = (), zone_uuids: Sequence[str] = ()
) -> list[BackupStorage]:
    from schemas.infra import ZoneBackupStorage

    statement = select(BackupStorage)
    if uuids:
        statement = statement.where(BackupStorage.uuid.in_(uuids))
    if zone_uuids:
        attached = select(ZoneBackupStorage.backup_storage_uuid).where(
            ZoneBackupStorage.zone_uuid.in_(zone_uuids)
        )
        statement = statement.where(BackupStorage.uuid.in_(attached))
    return list(session.scalars(statement))


def local_storage_capacities(
    session: Session, pool_uuid: str, host_uuid: str | None = None
) -> list[dict[str, Any]] | None:
    """Each host's capacity in a local-storage pool (ZStack's HostDiskCapacity), only
    ``host_uuid``'s if given; None if there is no such local-storage pool. A pool of one
    host (added with hostUuid) answers for that host."""
    from schemas.infra import LocalStorageHostRef

    pool = session.get(PrimaryStorage, pool_uuid)
    if pool is None or pool.type != "local-storage":
        return None
    if pool.host_uuid is not None:
        shares: list[Any] = [pool] if host_uuid in (None, pool.host_uuid) else []
        owner = pool.host_uuid
    else:
        statement = select(LocalStorageHostRef).where(
            LocalStorageHostRef.primary_storage_uuid == pool_uuid
        )
        if host_uuid is not None:
            statement = statement.where(LocalStorageHostRef.host_uuid == host_uuid)
        shares = list(session.scalars(statement.order_by(LocalStorageHostRef.create_date)))
        owner = None
    return [
        {
            "hostUuid": owner or share.host_uuid,
            "totalCapacity": share.total_capacity,
            "availableCapacity": share.available_capacity,
            "totalPhysicalCapacity": share.total_physical_capacity,
            "availablePhysicalCapacity": share.available_physical_capacity,
        }
        for share in shares
    ]
