"""The agent's sweep: at start and every ``sweep_seconds``, the temporaries that no live
operation holds are removed (``drivers.leftovers``) from every connected directory pool
and from the agent's own scratch folder. Network pools the agent reaches through a
client library (not mounted) are not swept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from drivers import leftovers
from drivers.agent.pools import ConnectedPools

log = logging.getLogger(__name__)


def sweep_once(pools: ConnectedPools, *, export_grace: float) -> list[Path]:
    """Sweeps every connected pool; a pool that cannot be read is skipped this round."""
    removed: list[Path] = []
    # The agent's own scratch folder (backups and restores of network pools) too.
    scratch = pools.data_dir / "scratch"
    for root in [*pools.roots(), *([scratch] if scratch.is_dir() else [])]:
        try:
            found = leftovers.sweep_pool(root, export_grace=export_grace)
        except OSError as exc:
            log.warning("could not sweep pool %s: %s", root, exc)
            continue
        if found.removed:
            log.info(
                "removed %d leftovers (%d bytes) in %s: %s",
                len(found.removed),
                found.freed_bytes,
                root,
                ", ".join(str(p) for p in found.removed),
            )
        removed += found.removed
    return removed


def sweep_journal(journal_dir: Path) -> None:
    """At start only: a journal record half written when the agent died."""
    for tmp in journal_dir.glob("*.tmp"):
        tmp.unlink(missing_ok=True)


async def sweep_forever(
    pools: ConnectedPools,
    interval: float,
    *,
    export_grace: float,
    also: Callable[[], object] = lambda: None,
) -> None:
    """At once, then every ``interval``: leftovers of dead operations, then ``also`` (the
    journal)."""
    while True:
        try:
            await asyncio.to_thread(sweep_once, pools, export_grace=export_grace)
            await asyncio.to_thread(also)
        except Exception:
            log.exception("sweep failed")
        await asyncio.sleep(interval)
