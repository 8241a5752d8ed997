"""``UpdateGlobalConfig``: cluster-wide thresholds (seed 003 set/global/config).

The storage over-allocation threshold is applied to every pool attached to the
cluster (every pool, without a cluster), so the capacity checks of volume
creation, resize and clones (``volplane.capacity``, through each pool's
``overAllocationThreshold``) use it at once. See ``volplane.global_config``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from schemas.infra import Cluster, ClusterPrimaryStorage, PrimaryStorage
from schemas.tables import utcnow
from volplane import global_config
from volplane.catalog import global_config as catalog
from volplane.catalog.global_config import UpdateGlobalConfig
from volplane.errors import InvalidParameter
from workers.context import JobContext, Runs
from workers.operations.common import get_or_404


def update_global_config(ctx: JobContext, req: UpdateGlobalConfig) -> dict[str, Any]:
    changes = req.changes()
    if not changes:
        raise InvalidParameter(f"set at least one of {', '.join(global_config.KEYS)}")
    if req.clusterUuid is not None:
        get_or_404(ctx.session, Cluster, req.clusterUuid, "cluster")
    global_config.write(ctx.session, req.clusterUuid, changes)
    threshold = changes.get(global_config.STORAGE_THRESHOLD)
    applied: list[str] = []
    if threshold is not None:
        pools = select(PrimaryStorage).with_for_update()
        if req.clusterUuid is not None:
            attached = select(ClusterPrimaryStorage.primary_storage_uuid).where(
                ClusterPrimaryStorage.cluster_uuid == req.clusterUuid
            )
            pools = pools.where(PrimaryStorage.uuid.in_(attached))
        for pool in ctx.session.scalars(pools.order_by(PrimaryStorage.uuid)):
            pool.over_allocation_threshold = threshold
            pool.last_op_date = utcnow()
            applied.append(pool.uuid)
    ctx.session.flush()
    return {
        "inventory": {
            "clusterUuid": req.clusterUuid,
            **global_config.read(ctx.session, req.clusterUuid),
            "appliedToPrimaryStorageUuids": applied,
        }
    }


RUNS: Runs = {
    catalog.UPDATE_GLOBAL_CONFIG: update_global_config,
}
