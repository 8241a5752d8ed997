"""The figures of a chaos run, printed and written as ``docs/reliability.md``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.chaos.faults import WITH_HANGS
from tests.chaos.run import Figures

ROWS = [
    ("accepted", "jobs the system recorded (202, or found recorded after a lost answer)"),
    ("completed", "ended Succeeded"),
    ("failed_cleanly", "ended Failed or Cancelled with an error code, nothing half-made left"),
    ("refused", "never accepted: a 4xx, or no gateway answered within 30 s (not counted lost)"),
    ("lost", "accepted, then unknown to the system"),
    ("doubled", "a create applied twice (two resources with its unique name)"),
    ("stuck", "accepted and not ended 4 minutes after the faults stopped"),
    ("leftovers", "temporaries, exports, pins, orphan images or manifests left on disk"),
    ("chain_mismatches", "qcow2 backing chains that differ from the API's snapshot trees"),
    ("capacity_mismatches", "pools whose available/allocated capacity is not the disk's"),
    ("unfinished_resources", "volumes, snapshots, backups not Ready at the end"),
]


def table(figures: Figures) -> str:
    lines = ["| figure | count | meaning |", "| --- | ---: | --- |"]
    lines.append(f"| submitted | {figures.submitted} | calls the actors made |")
    for key, meaning in ROWS:
        lines.append(f"| {key.replace('_', ' ')} | {getattr(figures, key)} | {meaning} |")
    return "\n".join(lines)


def details(figures: Figures) -> str:
    found = figures.findings
    out = []
    for title, items in (
        ("Doubled", found.doubled),
        ("Leftovers", found.leftovers),
        ("Chain mismatches", found.chain_mismatches),
        ("Capacity mismatches", found.capacity_mismatches),
        ("Unfinished resources", found.unfinished),
    ):
        if items:
            out.append(f"{title}:\n" + "\n".join(f"- {item}" for item in items[:30]))
    return "\n\n".join(out)


def printed(figures: Figures) -> str:
    width = max(len(k) for k, _ in ROWS)
    lines = [f"chaos run {figures.started}, {figures.duration:g} s, {len(figures.faults)} faults"]
    lines.append(f"  {'submitted':<{width}}  {figures.submitted}")
    lines += [f"  {k:<{width}}  {getattr(figures, k)}" for k, _ in ROWS]
    lines.append(f"  {'unreferenced chunks':<{width}}  {figures.unreferenced_chunks}")
    extra = details(figures)
    return "\n".join(lines) + ("\n\n" + extra if extra else "")


def markdown(figures: Figures) -> str:
    faults = Counter(f"{f.kind} {f.action}" for f in figures.faults)
    fault_list = ", ".join(f"{name} x{count}" for name, count in sorted(faults.items()))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(figures.kinds.items()))
    errors = ", ".join(f"`{k}` {v}" for k, v in sorted(figures.errors.items())) or "none"
    verdict = "clean" if figures.clean else "NOT clean (see below)"
    extra = details(figures)
    return f"""# Reliability: the chaos run

Written by `make chaos` (`python -m tests.chaos --duration N --report docs/reliability.md`;
the tool lives in `tests/chaos/`). `make chaos-test` runs a short version
(`tests/integration/test_chaos.py`) that asserts the same zeros and writes nothing.

## What it does

All on one machine: a PostgreSQL server of its own (`initdb`, a free port, a temporary
folder; never the machine's shared server), a private Redis, two gateways, two Celery
workers, beat, and two agents (hosts). Host 1's pool lives on a small loop-mounted ext4
filesystem; host 2 has the other pool and the backup storage. {figures.actors} actors submit
a mix of calls through either gateway (each with its own `X-Job-UUID`, retried across
outages): volumes created (and written with `qemu-io`), snapshots, full clones (same host
and across hosts), backups, restores, deletes of each, zone updates.

Meanwhile one fault at a time, in turn ({len(WITH_HANGS)} kinds): SIGKILL then restart,
and SIGSTOP then SIGCONT, of a gateway, a worker, beat, an agent, Redis and PostgreSQL
(the whole server); the small pool's filesystem filled to 64 KiB free; and (unless
`--no-hangs`) an agent hung for 45 s, longer than a worker waits for its answer. Each
other fault is held 2-5 s, 2-4 s apart. Then the faults stop, every process is brought
back, every job is waited for, the agents' sweep has its turn, and it checks: every job
ended (none lost, none stuck), no create applied twice, every volume's and snapshot's
`qemu-img` backing chain is the API's snapshot tree, every pool's available capacity is
its disk's and its allocated capacity the sum of its volumes, and nothing temporary is
left.

## Last run

{figures.started}, {figures.duration:g} s of faults, verdict: **{verdict}**.

{table(figures)}

Unreferenced chunks in the backup storage (written by backups that failed or were
cancelled; collected by the next garbage collection, not counted as leftovers):
{figures.unreferenced_chunks}.

Faults injected ({len(figures.faults)}): {fault_list}.

Calls by kind: {kinds}.

Clean failures by error code: {errors}.
""" + (f"\n## Findings\n\n{extra}\n" if extra else "")


def write(figures: Figures, path: Path) -> None:
    path.write_text(markdown(figures))
