"""One chaos run: the topology up, actors and faults for ``duration`` seconds, then the
faults end, every process is brought back, every job is waited for, and the checks run."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.chaos.checks import Findings, check
from tests.chaos.faults import SCHEDULE, WITH_HANGS, Fault, Faults
from tests.chaos.topology import EXPORT_GRACE_SECONDS, SWEEP_SECONDS, Topology, topology
from tests.chaos.workload import Actor, Api, Ledger
from tests.stack import wait_until
from volplane.chunking import PIN_LEASE_SECONDS


@dataclass
class Figures:
    started: str
    duration: float
    actors: int
    submitted: int = 0
    accepted: int = 0
    completed: int = 0
    failed_cleanly: int = 0
    refused: int = 0
    lost: int = 0
    doubled: int = 0
    stuck: int = 0
    leftovers: int = 0
    chain_mismatches: int = 0
    capacity_mismatches: int = 0
    unfinished_resources: int = 0
    unreferenced_chunks: int = 0
    faults: list[Fault] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    errors: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.doubled
            or self.stuck
            or self.leftovers
            or self.chain_mismatches
            or self.capacity_mismatches
            or self.unfinished_resources
        )


def run(
    duration: float,
    *,
    actors: int = 4,
    seed: int | None = None,
    drain_timeout: float = 240.0,
    gap: tuple[float, float] = (2.0, 4.0),
    hold: tuple[float, float] = (2.0, 5.0),
    hangs: bool = False,
) -> Figures:
    seed = random.randrange(1 << 30) if seed is None else seed
    figures = Figures(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), duration, actors)
    with topology() as top:
        ledger = Ledger()
        apis = [Api(top.gateway_urls, top.admin.session) for _ in range(actors)]
        cast = [
            Actor(
                api,
                ledger,
                pools=[p["uuid"] for p in top.pools],
                backup_storage=top.backup_storage["uuid"],
                zone=top.zone["uuid"],
                seed=seed + index,
            )
            for index, api in enumerate(apis)
        ]
        stop_actors, stop_faults = threading.Event(), threading.Event()
        threads = [threading.Thread(target=a.run, args=(stop_actors,)) for a in cast]
        faults = Faults(top, random.Random(seed))
        injector = threading.Thread(
            target=faults.run,
            args=(stop_faults,),
            kwargs={"gap": gap, "hold": hold, "schedule": WITH_HANGS if hangs else SCHEDULE},
        )
        for thread in [*threads, injector]:
            thread.start()
        time.sleep(duration)
        stop_faults.set()
        injector.join()
        stop_actors.set()
        top.ensure_running()
        for thread in threads:
            thread.join()
        _drain(apis[0], ledger, drain_timeout)
        # Hosts back to Connected, then the agents' sweep has had its turn: a pin of a
        # backup whose agent died lives out its lease, an export its grace (neither has
        # another owner once the job that made it failed while the agent was away).
        wait_until(lambda: _hosts_connected(top.admin), timeout=60)
        time.sleep(2 * SWEEP_SECONDS)
        with contextlib.suppress(AssertionError):
            wait_until(
                lambda: not _in_transit(top),
                timeout=max(PIN_LEASE_SECONDS, EXPORT_GRACE_SECONDS) + 3 * SWEEP_SECONDS,
                interval=1.0,
            )
        figures.findings = check(top, ledger)
        figures.faults = faults.done
        _count(figures, ledger)
        for api in apis:
            api.close()
    return figures


def _in_transit(top: Topology) -> bool:
    """Pins or exports still on disk."""
    pins = Path(top.backup_storage["url"]) / "pins"
    exports = [p for pool in top.pools for p in Path(pool["mountPath"]).glob("*.export.qcow2")]
    return bool(exports) or any(pins.iterdir())


def _hosts_connected(admin: object) -> bool:
    hosts = admin.get("/v1/hosts").json()["inventories"]  # type: ignore[attr-defined]
    return all(h["status"] == "Connected" for h in hosts)


def _drain(api: Api, ledger: Ledger, timeout: float) -> None:
    """Every job the system knows of is waited for, up to ``timeout`` in all."""
    deadline = time.monotonic() + timeout
    for job in ledger.jobs:
        if job.outcome == "refused" and job.error == "no gateway accepted it in time":
            # Maybe recorded after all, its answer lost with a gateway.
            found = api.record(job.uuid)
            if isinstance(found, dict):
                job.accepted, job.outcome = True, "pending"
        if job.accepted and job.outcome in ("pending", "lost"):
            api.wait(job, max(1.0, deadline - time.monotonic()))
            if job.outcome == "pending":
                job.outcome = "stuck"


def _count(figures: Figures, ledger: Ledger) -> None:
    found = figures.findings
    figures.submitted = len(ledger.jobs)
    for job in ledger.jobs:
        figures.kinds[job.kind] = figures.kinds.get(job.kind, 0) + 1
        if job.accepted:
            figures.accepted += 1
        if job.outcome == "completed":
            figures.completed += 1
        elif job.outcome == "failed":
            figures.failed_cleanly += 1
            key = job.error or job.state or "?"
            figures.errors[key] = figures.errors.get(key, 0) + 1
        elif job.outcome == "refused":
            figures.refused += 1
        elif job.outcome == "lost":
            figures.lost += 1
        elif job.outcome == "stuck":
            figures.stuck += 1
    figures.doubled = len(found.doubled)
    figures.leftovers = len(found.leftovers)
    figures.chain_mismatches = len(found.chain_mismatches)
    figures.capacity_mismatches = len(found.capacity_mismatches)
    figures.unfinished_resources = len(found.unfinished)
    figures.unreferenced_chunks = found.unreferenced_chunks
