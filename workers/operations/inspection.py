"""``InspectCluster``: a health check over every host agent of a cluster (seed 003
inspection).

For each host, in order: ``network`` — the agent answers its health call, and how
fast; ``system`` — ``qemu-img`` is installed; ``hardware`` — free space in the
agent's data directory, and each pool the host serves answers a capacity call (it is
mounted and readable) with its free space. Each check is ``normal``, ``alarm`` or
``fault``; the score is the share of normal checks (alarms count half). Progress
moves host by host, and a cancel (inspection/stop) is noticed between checks.

Nothing is written: the job's result is the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from schemas.agent import HostFacts
from schemas.infra import Cluster, ClusterPrimaryStorage, Host, PrimaryStorage
from volplane.catalog import inspection as catalog
from volplane.catalog.inspection import InspectCluster
from volplane.errors import ResourceNotFound, VolplaneError
from workers.context import JobContext, Runs
from workers.operations.host_access import agent_of

NORMAL, ALARM, FAULT = "normal", "alarm", "fault"
SLOW_AGENT_MS = 500.0
LOW_FREE = 0.10  # alarm below 10 % free
NO_FREE = 0.02  # fault below 2 % free


def level_of_free(free: int, total: int) -> str:
    if total <= 0:
        return FAULT
    share = free / total
    return FAULT if share < NO_FREE else ALARM if share < LOW_FREE else NORMAL


def score(levels: list[str]) -> int:
    if not levels:
        return 100
    points = sum(1.0 if level == NORMAL else 0.5 if level == ALARM else 0.0 for level in levels)
    return round(100 * points / len(levels))


def check(host: Host, item: str, level: str, value: Any, message: str) -> dict[str, Any]:
    return {
        "host_uuid": host.uuid,
        "host_name": host.name,
        "item": item,
        "level": level,
        "value": value,
        "message": message,
    }


def pools_of_host(ctx: JobContext, host: Host) -> list[PrimaryStorage]:
    """The host's own pools and the shared pools of its cluster."""
    shared = select(ClusterPrimaryStorage.primary_storage_uuid).where(
        ClusterPrimaryStorage.cluster_uuid == host.cluster_uuid
    )
    statement = select(PrimaryStorage).where(
        (PrimaryStorage.host_uuid == host.uuid)
        | (PrimaryStorage.host_uuid.is_(None) & PrimaryStorage.uuid.in_(shared))
    )
    return list(ctx.session.scalars(statement.order_by(PrimaryStorage.create_date)))


def inspect_host(
    ctx: JobContext, host: Host, req: InspectCluster, record: Callable[[str, dict[str, Any]], None]
) -> None:
    every = not (req.checkSystem or req.checkNetwork or req.checkHardware)
    agent = agent_of(ctx, host)
    started = time.monotonic()
    try:
        agent.health()
    except VolplaneError as exc:
        record("network", check(host, "agent_reachable", FAULT, None, exc.details))
        for group, wanted in (("system", req.checkSystem), ("hardware", req.checkHardware)):
            if every or wanted:
                record(group, check(host, "agent_reachable", FAULT, None, "host not reachable"))
        return
    latency = round((time.monotonic() - started) * 1000, 1)
    if every or req.checkNetwork:
        level = ALARM if latency > SLOW_AGENT_MS else NORMAL
        record("network", check(host, "agent_latency_ms", level, latency, f"{latency} ms"))
    ctx.checkpoint()
    try:
        facts: HostFacts = agent.facts()
    except VolplaneError as exc:
        for group, wanted in (("system", req.checkSystem), ("hardware", req.checkHardware)):
            if every or wanted:
                record(group, check(host, "agent_facts", FAULT, None, exc.details))
        return
    if every or req.checkSystem:
        has_qemu_img = facts.qemu_img is not None
        record(
            "system",
            check(
                host,
                "qemu_img",
                NORMAL if has_qemu_img else FAULT,
                facts.qemu_img,
                f"qemu-img {facts.qemu_img}" if has_qemu_img else "qemu-img is not installed",
            ),
        )
    if not (every or req.checkHardware):
        return
    free, total = facts.data_dir_available_bytes, facts.data_dir_total_bytes
    record(
        "hardware",
        check(
            host,
            "data_dir_free_bytes",
            level_of_free(free, total),
            free,
            f"{free} of {total} bytes free in {facts.data_dir}",
        ),
    )
    for pool in pools_of_host(ctx, host):
        ctx.checkpoint()
        item = f"pool_mount:{pool.name}"
        try:
            found = agent.pool_capacity(pool.mount_path or pool.url)
        except VolplaneError as exc:
            record("hardware", check(host, item, FAULT, None, exc.details))
            continue
        record(
            "hardware",
            check(
                host,
                item,
                level_of_free(found.available_bytes, found.total_bytes),
                found.available_bytes,
                f"{found.root} mounted, {found.available_bytes} of {found.total_bytes} bytes free",
            ),
        )


def inspect_cluster(ctx: JobContext, req: InspectCluster) -> dict[str, Any]:
    cluster = ctx.session.get(Cluster, req.clusterUuid)
    if cluster is None:
        raise ResourceNotFound(f"cluster {req.clusterUuid} does not exist")
    hosts = list(
        ctx.session.scalars(
            select(Host).where(Host.cluster_uuid == cluster.uuid).order_by(Host.create_date)
        )
    )
    groups: dict[str, list[dict[str, Any]]] = {"system": [], "network": [], "hardware": []}

    def record(group: str, result: dict[str, Any]) -> None:
        groups[group].append(result)

    for index, host in enumerate(hosts):
        ctx.checkpoint()
        ctx.progress(int(100 * index / len(hosts)))
        inspect_host(ctx, host, req, record)
    ctx.checkpoint()
    levels = [c["level"] for group in groups.values() for c in group]
    return {
        "inventory": {
            "clusterUuid": cluster.uuid,
            "hostCount": len(hosts),
            "normal": levels.count(NORMAL),
            "alarm": levels.count(ALARM),
            "fault": levels.count(FAULT),
            "score": score(levels),
            **groups,
        }
    }


RUNS: Runs = {
    catalog.INSPECT_CLUSTER: inspect_cluster,
}
