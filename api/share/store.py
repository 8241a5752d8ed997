"""The reads the share-storage dialect answers synchronously.

Collections go through the query language (``api.query`` with the declarations of
the ZStack routes), with the dialect's filters written as query conditions and the
cluster limits added to the compiled statement; what a caller sees is
``volplane.tenancy``'s rule, applied by the query compiler. Everything here runs in a worker
thread on one database session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from api.query import compile_query, parse_query, run_query
from api.resources import inventory_of, query_registry
from api.share.inventories import (
    PoolContext,
    SnapshotTree,
    VolumeContext,
    share_pool,
    share_snapshot,
    share_volume,
)
from schemas.infra import Cluster, ClusterPrimaryStorage, Host, PrimaryStorage
from schemas.infra_inventories import host_inventory, primary_storage_inventory
from schemas.storage import Volume, VolumeSnapshot
from schemas.storage_inventories import snapshot_inventory, volume_inventory
from schemas.tables import Account, ApiJob, Zone
from volplane.errors import ResourceNotFound
from volplane.tenancy import Actor, get_visible


@dataclasses.dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int


def page_pairs(page_num: int, page_size: int) -> list[tuple[str, str]]:
    """``page_num`` counts from 1 (0, the default, is the first page too);
    ``page_size`` 0 means every row."""
    if page_size <= 0:
        return []
    start = (max(page_num, 1) - 1) * page_size
    return [("limit", str(page_size)), ("start", str(start))]


def query_page(
    session: Session,
    resource: str,
    pairs: Sequence[tuple[str, str]],
    *,
    actor: Actor,
    where: Sequence[ColumnElement[bool]] = (),
) -> Page:
    spec = parse_query([*pairs, ("replyWithCount", "true")])
    compiled = compile_query(query_registry(), resource, spec, actor=actor)
    rows, total = compiled.rows, compiled.total
    for condition in where:
        rows = rows.where(condition)
        total = None if total is None else total.where(condition)
    result = run_query(session, dataclasses.replace(compiled, rows=rows, total=total))
    return Page(rows=result.rows, total=result.total or 0)


def like_condition(field: str, text: str) -> list[tuple[str, str]]:
    """A "contains" filter on ``field``; an empty text filters nothing."""
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [("q", f"{field}~=%{escaped}%")]


# --- clusters, zones, hosts ------------------------------------------------------


def cluster_or_404(session: Session, uuid: str) -> Cluster:
    cluster = session.get(Cluster, uuid)
    if cluster is None:
        raise ResourceNotFound(f"cluster {uuid} does not exist")
    return cluster


def zone_names(session: Session, uuids: Sequence[str]) -> dict[str, str]:
    if not uuids:
        return {}
    rows = session.execute(select(Zone.uuid, Zone.name).where(Zone.uuid.in_(set(uuids))))
    return {uuid: name for uuid, name in rows}


def hosts_of_cluster(session: Session, cluster_uuid: str) -> list[Host]:
    return list(
        session.scalars(
            select(Host).where(Host.cluster_uuid == cluster_uuid).order_by(Host.create_date)
        )
    )


def account_names(session: Session, uuids: Sequence[str]) -> dict[str, str]:
    if not uuids:
        return {}
    rows = session.execute(select(Account.uuid, Account.name).where(Account.uuid.in_(set(uuids))))
    return {uuid: name for uuid, name in rows}


def in_cluster(cluster_uuid: str) -> ColumnElement[bool]:
    """Pools attached to the cluster."""
    attached = select(ClusterPrimaryStorage.primary_storage_uuid).where(
        ClusterPrimaryStorage.cluster_uuid == cluster_uuid
    )
    return PrimaryStorage.uuid.in_(attached)


def pool_hosts(session: Session, pools: Sequence[PrimaryStorage]) -> dict[str, list[Host]]:
    """The hosts that reach each pool: its own host, or the hosts of its clusters."""
    clusters = {ref.cluster_uuid for p in pools if p.host_uuid is None for ref in p.cluster_refs}
    own = {p.host_uuid for p in pools if p.host_uuid is not None}
    hosts: list[Host] = []
    if clusters or own:
        hosts = list(
            session.scalars(
                select(Host)
                .where(Host.cluster_uuid.in_(clusters) | Host.uuid.in_(own))
                .order_by(Host.create_date)
            )
        )
    found: dict[str, list[Host]] = {}
    for pool in pools:
        if pool.host_uuid is not None:
            found[pool.uuid] = [h for h in hosts if h.uuid == pool.host_uuid]
        else:
            attached = {ref.cluster_uuid for ref in pool.cluster_refs}
            found[pool.uuid] = [h for h in hosts if h.cluster_uuid in attached]
    return found


# --- pools -----------------------------------------------------------------------


def volume_counts(session: Session, pool_uuids: Sequence[str]) -> dict[str, int]:
    if not pool_uuids:
        return {}
    rows = session.execute(
        select(Volume.primary_storage_uuid, func.count())
        .where(Volume.primary_storage_uuid.in_(pool_uuids))
        .group_by(Volume.primary_storage_uuid)
    )
    return {uuid: int(count) for uuid, count in rows}


def share_pools(session: Session, pools: Sequence[PrimaryStorage]) -> list[dict[str, Any]]:
    zones = zone_names(session, [p.zone_uuid for p in pools])
    hosts = pool_hosts(session, pools)
    counts = volume_counts(session, [p.uuid for p in pools])
    return [
        share_pool(
            primary_storage_inventory(pool),
            PoolContext(
                zone_name=zones.get(pool.zone_uuid, ""),
                hosts=[host_inventory(h) for h in hosts.get(pool.uuid, [])],
                volume_count=counts.get(pool.uuid, 0),
            ),
        )
        for pool in pools
    ]


def pool_page(
    session: Session,
    cluster_uuid: str,
    *,
    actor: Actor,
    filter_name: str,
    page_num: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    page = query_page(
        session,
        "primaryStorage",
        [
            *like_condition("name", filter_name),
            ("sort", "+createDate"),
            *page_pairs(page_num, page_size),
        ],
        actor=actor,
        where=[in_cluster(cluster_uuid)],
    )
    return share_pools(session, page.rows), page.total


def pool_in_cluster(
    session: Session, pool_uuid: str, cluster_uuid: str, *, actor: Actor
) -> PrimaryStorage:
    """The pool if it is attached to the cluster and open to ``actor``; else not found."""
    cluster_or_404(session, cluster_uuid)
    pool = get_visible(session, PrimaryStorage, pool_uuid, actor, what="pool")
    if cluster_uuid not in {ref.cluster_uuid for ref in pool.cluster_refs}:
        raise ResourceNotFound(f"pool {pool_uuid} is not in cluster {cluster_uuid}")
    return pool


# --- volumes ---------------------------------------------------------------------


def volume_contexts(session: Session, volumes: Sequence[Volume]) -> dict[str, VolumeContext]:
    pools = {
        p.uuid: p
        for p in session.scalars(
            select(PrimaryStorage).where(
                PrimaryStorage.uuid.in_({v.primary_storage_uuid for v in volumes})
            )
        )
    }
    zones = zone_names(session, [p.zone_uuid for p in pools.values()])
    hosts = pool_hosts(session, list(pools.values()))
    parents = [v.parent_snapshot_uuid for v in volumes if v.parent_snapshot_uuid]
    parent_volume = dict(
        session.execute(
            select(VolumeSnapshot.uuid, VolumeSnapshot.volume_uuid).where(
                VolumeSnapshot.uuid.in_(parents)
            )
        ).all()
        if parents
        else []
    )
    children: dict[str, list[str]] = {}
    uuids = [v.uuid for v in volumes]
    if uuids:
        rows = session.execute(
            select(VolumeSnapshot.volume_uuid, Volume.uuid)
            .join(Volume, Volume.parent_snapshot_uuid == VolumeSnapshot.uuid)
            .where(VolumeSnapshot.volume_uuid.in_(uuids))
            .order_by(Volume.create_date)
        )
        for source, clone in rows:
            children.setdefault(source, []).append(clone)
    contexts = {}
    for volume in volumes:
        pool = pools.get(volume.primary_storage_uuid)
        contexts[volume.uuid] = VolumeContext(
            pool_name=pool.name if pool else "",
            zone_uuid=pool.zone_uuid if pool else "",
            zone_name=zones.get(pool.zone_uuid, "") if pool else "",
            host_uuids=[h.uuid for h in hosts.get(volume.primary_storage_uuid, [])],
            parent_volume_uuid=parent_volume.get(volume.parent_snapshot_uuid or "", ""),
            children=children.get(volume.uuid, []),
        )
    return contexts


def share_volumes(session: Session, volumes: Sequence[Volume]) -> list[dict[str, Any]]:
    contexts = volume_contexts(session, volumes)
    return [share_volume(volume_inventory(v), contexts[v.uuid]) for v in volumes]


def volume_page(
    session: Session,
    cluster_uuid: str,
    *,
    actor: Actor,
    pool_uuid: str | None,
    filter_name: str,
    page_num: int,
    page_size: int,
) -> tuple[list[Volume], int]:
    pairs = [
        *like_condition("name", filter_name),
        *([("q", f"primaryStorageUuid={pool_uuid}")] if pool_uuid else []),
        ("sort", "+createDate"),
        *page_pairs(page_num, page_size),
    ]
    attached = select(ClusterPrimaryStorage.primary_storage_uuid).where(
        ClusterPrimaryStorage.cluster_uuid == cluster_uuid
    )
    page = query_page(
        session,
        "volume",
        pairs,
        actor=actor,
        where=[Volume.primary_storage_uuid.in_(attached)],
    )
    return page.rows, page.total


def volume_in_cluster(
    session: Session, volume_uuid: str, cluster_uuid: str, *, actor: Actor
) -> Volume:
    """The volume if ``actor`` may see it and its pool is in the cluster."""
    cluster_or_404(session, cluster_uuid)
    volume = get_visible(session, Volume, volume_uuid, actor)
    attached = session.get(ClusterPrimaryStorage, (cluster_uuid, volume.primary_storage_uuid))
    if attached is None:
        raise ResourceNotFound(f"volume {volume_uuid} is not in cluster {cluster_uuid}")
    return volume


# --- snapshots -------------------------------------------------------------------


def snapshots_of(session: Session, volume_uuid: str) -> list[VolumeSnapshot]:
    return list(
        session.scalars(
            select(VolumeSnapshot)
            .where(VolumeSnapshot.volume_uuid == volume_uuid)
            .order_by(VolumeSnapshot.create_date, VolumeSnapshot.uuid)
        )
    )


def snapshot_tree(session: Session, volume: Volume) -> tuple[SnapshotTree, list[VolumeSnapshot]]:
    snapshots = snapshots_of(session, volume.uuid)
    tree = SnapshotTree.of([snapshot_inventory(s) for s in snapshots], volume.current_snapshot_uuid)
    return tree, snapshots


def linked_clone_counts(session: Session, snapshot_uuids: Sequence[str]) -> dict[str, int]:
    if not snapshot_uuids:
        return {}
    rows = session.execute(
        select(Volume.parent_snapshot_uuid, func.count())
        .where(Volume.parent_snapshot_uuid.in_(snapshot_uuids))
        .group_by(Volume.parent_snapshot_uuid)
    )
    return {uuid: int(count) for uuid, count in rows if uuid is not None}


def share_snapshots(session: Session, volume: Volume) -> list[dict[str, Any]]:
    tree, snapshots = snapshot_tree(session, volume)
    refs = linked_clone_counts(session, [s.uuid for s in snapshots])
    return [
        share_snapshot(snapshot_inventory(s), tree, linked_clones=refs.get(s.uuid, 0))
        for s in snapshots
    ]


# --- jobs ------------------------------------------------------------------------


def latest_job(
    session: Session,
    *,
    api_names: Sequence[str] = (),
    resource_uuids: Sequence[str],
    actor: Actor,
) -> ApiJob | None:
    """The newest job on one of the resources (through the query language on
    ``apiJob``, so a tenant sees only its own jobs)."""
    if not resource_uuids:
        return None
    pairs = [("q", f"resourceUuid?={','.join(resource_uuids)}"), ("sort", "-createDate")]
    if api_names:
        pairs.append(("q", f"apiName?={','.join(api_names)}"))
    spec = parse_query([*pairs, ("limit", "1")])
    compiled = compile_query(query_registry(), "apiJob", spec, actor=actor)
    rows = run_query(session, compiled).rows
    return rows[0] if rows else None


def inventories(resource: str, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [inventory_of(resource, row) for row in rows]
