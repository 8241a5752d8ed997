"""The host heartbeat: keeps each host's ``status`` Connected or Disconnected.

Run by Celery beat every ``heartbeat_interval_seconds``. Each host's agent is asked
for ``/v1/health`` with short timeouts, all hosts at once. A host that stops
answering becomes Disconnected, and so do the pools and backup storage living on it;
a host that answers again becomes Connected, and so do those of them its agent
still serves. Hosts a running job holds locked are skipped this round.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from drivers.client import AgentClient
from schemas.infra import BackupStorage, Host, PrimaryStorage
from schemas.states import HostStatus
from schemas.tables import utcnow
from volplane.errors import VolplaneError
from volplane.runtime import Runtime

log = logging.getLogger("volplane.heartbeat")

CONNECTED, DISCONNECTED = HostStatus.CONNECTED, HostStatus.DISCONNECTED


@dataclass(frozen=True)
class Probe:
    host_uuid: str
    alive: bool
    error: str | None = None
    serving: frozenset[str] = frozenset()  # pool roots the agent confirmed it serves
    latency_ms: float | None = None  # round trip of the health call


@dataclass(frozen=True)
class HeartbeatReport:
    checked: int
    connected: int
    disconnected: int


def next_status(current: str, alive: bool) -> str:
    """A probe decides; HostStatus.CONNECTING (an add in progress) is left to its job."""
    if current == HostStatus.CONNECTING:
        return current
    return CONNECTED if alive else DISCONNECTED


def _probe(host: Host, roots: list[str], *, connect_timeout: float, read_timeout: float) -> Probe:
    try:
        with AgentClient(
            host.agent_url,
            host.agent_token,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            poll_seconds=read_timeout,
        ) as agent:
            started = time.perf_counter()
            health = agent.health()
            if not health.qemu_img:
                return Probe(host.uuid, False, error="qemu-img is missing on the host")
            latency_ms = (time.perf_counter() - started) * 1000
            serving = set()
            for root in roots:
                try:
                    agent.pool_capacity(root)
                    serving.add(root)
                except VolplaneError:
                    pass  # the agent lost this pool; it stays Disconnected
            return Probe(host.uuid, True, serving=frozenset(serving), latency_ms=latency_ms)
    except VolplaneError as exc:
        return Probe(host.uuid, False, error=exc.details)


def heartbeat(runtime: Runtime) -> HeartbeatReport:
    settings = runtime.settings
    with runtime.sessions() as session:
        hosts = list(
            session.scalars(select(Host).with_for_update(skip_locked=True).order_by(Host.uuid))
        )
        if not hosts:
            session.rollback()
            return HeartbeatReport(0, 0, 0)
        roots = _roots_to_check(session, hosts)
        with ThreadPoolExecutor(max_workers=min(16, len(hosts))) as pool:
            probes = list(
                pool.map(
                    lambda h: _probe(
                        h,
                        roots.get(h.uuid, []),
                        connect_timeout=settings.agent_connect_timeout_seconds,
                        read_timeout=settings.heartbeat_timeout_seconds,
                    ),
                    hosts,
                )
            )
        changed = _apply(session, hosts, probes)
        session.commit()
    up = sum(p.alive for p in probes)
    if changed:
        log.info("host status changed", extra={"hosts": changed})
    return HeartbeatReport(checked=len(probes), connected=up, disconnected=len(probes) - up)


def _roots_to_check(session: Session, hosts: list[Host]) -> dict[str, list[str]]:
    """Pool roots to confirm on hosts that were Disconnected (their pools come back only
    if the agent still serves them)."""
    down = [h.uuid for h in hosts if h.status == DISCONNECTED]
    roots: dict[str, list[str]] = {}
    if not down:
        return roots
    for pool in session.scalars(select(PrimaryStorage).where(PrimaryStorage.host_uuid.in_(down))):
        assert pool.host_uuid is not None
        roots.setdefault(pool.host_uuid, []).append(pool.mount_path)
    for storage in session.scalars(select(BackupStorage).where(BackupStorage.host_uuid.in_(down))):
        roots.setdefault(storage.host_uuid, []).append(storage.url)
    return roots


def _apply(session: Session, hosts: list[Host], probes: list[Probe]) -> dict[str, str]:
    changed: dict[str, str] = {}
    now = utcnow()
    for host, probe in zip(hosts, probes, strict=True):
        status = next_status(host.status, probe.alive)
        if probe.alive:
            host.last_heartbeat = now
            host.heartbeat_latency_ms = probe.latency_ms
        if status == host.status:
            continue
        changed[host.uuid] = status
        host.status = status
        pools = session.scalars(select(PrimaryStorage).where(PrimaryStorage.host_uuid == host.uuid))
        storages = session.scalars(
            select(BackupStorage).where(BackupStorage.host_uuid == host.uuid)
        )
        for pool in pools:
            if status == DISCONNECTED or pool.mount_path in probe.serving:
                pool.status = status
        for storage in storages:
            if status == DISCONNECTED or storage.url in probe.serving:
                storage.status = status
    return changed
