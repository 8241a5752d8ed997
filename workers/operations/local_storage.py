"""ZStack's ``localStorageMigrateVolume``: a volume of cluster-wide local storage moves
to another host of the pool, with its snapshot chain.

The pool's directory is the same path on every host, so each image keeps its path:
the destination agent pulls the images from the source agent over the network,
parents first (each pulled image's backing file is already there), then the volume
is switched to its new host and the source's copies are deleted. A failure or a
cancel before the switch removes what was pulled and leaves the volume where it
was; a cut link fails the pull (it does not resume) and is cleaned up the same way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from drivers.client import AgentClient
from schemas import storage_requests as rq
from schemas.infra import Host, LocalStorageHostRef, PrimaryStorage
from schemas.local_storage import resource_ref_inventory
from schemas.storage import Volume, VolumeSnapshot
from schemas.tables import utcnow
from volplane.catalog import local_storage as catalog
from volplane.errors import InvalidParameter, VolplaneError, VolumeHasDependents
from workers.context import JobContext, Runs
from workers.operations.common import get_or_404
from workers.operations.host_access import agent_of, require_usable_host
from workers.operations.primary_storage import sum_host_capacity
from workers.operations.volumes import (
    agent_for_pool,
    linked_clones_of,
    pool_of,
    require_ready,
    side_session,
    snapshots_of,
    visible_volume,
)

EXPORT_SECONDS = 2 * 3600


def chain_order(snapshots: list[VolumeSnapshot]) -> list[VolumeSnapshot]:
    """Snapshots parents first, so each image's backing file arrives before it."""
    by_parent: dict[str | None, list[VolumeSnapshot]] = {}
    for snapshot in snapshots:
        by_parent.setdefault(snapshot.parent_uuid, []).append(snapshot)
    known = {s.uuid for s in snapshots}
    ordered: list[VolumeSnapshot] = []
    pending = [s for s in snapshots if s.parent_uuid is None or s.parent_uuid not in known]
    while pending:
        snapshot = pending.pop(0)
        ordered.append(snapshot)
        pending.extend(by_parent.get(snapshot.uuid, []))
    return ordered


def _refresh_share(ctx: JobContext, pool: PrimaryStorage, host: Host, step: str) -> None:
    found = agent_of(ctx, host).pool_capacity(pool.mount_path, op_id=ctx.op_id(step))
    ref = ctx.session.get(LocalStorageHostRef, (pool.uuid, host.uuid))
    if ref is not None:
        ref.total_capacity = ref.total_physical_capacity = found.total_bytes
        ref.available_capacity = ref.available_physical_capacity = found.available_bytes
        ref.last_op_date = utcnow()
    sum_host_capacity(ctx.session, pool)


def _progress(ctx: JobContext, done: int, part: int, total: int) -> Callable[[int], None]:
    def report(percent: int) -> None:
        ctx.progress(min(99, (done + part * percent // 100) * 100 // max(total, 1)))

    return report


def migrate_volume(ctx: JobContext, req: rq.LocalStorageMigrateVolume) -> dict[str, Any]:
    # Not locked here: the switch below commits on its own (jobs on one volume run one
    # at a time anyway), before the source's copies are deleted.
    volume = visible_volume(ctx, req.volumeUuid, lock=False)
    require_ready(volume)
    pool = pool_of(ctx, volume)
    if not pool.is_cluster_local:
        raise InvalidParameter(
            f"volume {volume.uuid} is not in cluster-wide local storage; only those migrate"
        )
    if volume.host_uuid == req.destHostUuid:
        raise InvalidParameter(f"volume {volume.uuid} already is on host {req.destHostUuid}")
    if ctx.session.get(LocalStorageHostRef, (pool.uuid, req.destHostUuid)) is None:
        raise InvalidParameter(f"host {req.destHostUuid} has no share of local storage {pool.uuid}")
    if volume.base_path is not None:
        raise VolumeHasDependents(
            f"volume {volume.uuid} sits on a base image ({volume.base_path}); flatten it first"
        )
    if linked_clones_of(ctx.session, volume.uuid):
        raise VolumeHasDependents(f"volume {volume.uuid} has linked clones on its host")
    dest = get_or_404(ctx.session, Host, req.destHostUuid, "host")
    require_usable_host(dest)
    source_host = ctx.session.get(Host, volume.host_uuid)
    assert source_host is not None
    source = agent_for_pool(ctx, pool, host_uuid=volume.host_uuid)
    target = agent_of(ctx, dest)
    snapshots = chain_order(snapshots_of(ctx.session, volume.uuid))
    images = [(s.install_path, s.size) for s in snapshots]
    images.append((volume.install_path, volume.actual_size))
    _copy(ctx, source, target, images)
    # The switch commits at once: from here the destination's copies are the volume's.
    with side_session(ctx) as session, session.begin():
        row = session.get(Volume, volume.uuid, with_for_update=True)
        assert row is not None
        row.host_uuid = dest.uuid
        row.last_op_date = utcnow()
    ctx.session.refresh(volume)
    for index, (path, _) in enumerate(reversed(images)):
        with contextlib.suppress(VolplaneError):  # a leftover on the source, not a loss
            source.delete_volume(ctx.op_id(f"drop-{index}"), path)
    _refresh_share(ctx, pool, dest, "capacity-dest")
    with contextlib.suppress(VolplaneError):
        _refresh_share(ctx, pool, source_host, "capacity-source")
    ctx.session.flush()
    return {"inventory": resource_ref_inventory(volume)}


def _copy(
    ctx: JobContext,
    source: AgentClient,
    target: AgentClient,
    images: list[tuple[str, int]],
) -> None:
    """Pulls each image into the destination; on failure or cancel removes them there."""
    total = sum(size for _, size in images)
    done = 0
    pulled: list[str] = []
    # Export tickets valid 1-2 hours, the same within an hour: a rerun sends the same pull.
    expires = int(time.time()) // 3600 * 3600 + EXPORT_SECONDS
    try:
        for index, (path, size) in enumerate(images):
            ctx.checkpoint()
            target.pull_image(
                ctx.op_id(f"pull-{index}"),
                source.export_url(path, expires=expires),
                path,
                keep_backing=True,
                on_progress=_progress(ctx, done, size, total),
                should_cancel=lambda: ctx.cancel_requested,
            )
            pulled.append(path)
            done += size
        ctx.checkpoint()
    except BaseException:
        for index, path in enumerate(reversed(pulled)):
            with contextlib.suppress(VolplaneError):
                target.delete_volume(ctx.op_id(f"undo-{index}"), path)
        raise


RUNS: Runs = {catalog.LOCAL_STORAGE_MIGRATE_VOLUME: migrate_volume}
