"""A deliberately slow operation for reliability tests (enable_test_operations only).

It sleeps in small steps with checkpoints and progress, then optionally creates a
zone, whose existence proves the run's effect was committed exactly once.
"""

from __future__ import annotations

import time
from typing import Any

from schemas import requests as rq
from schemas.inventories import zone_inventory
from schemas.tables import Zone, new_uuid
from volplane.catalog import debug as catalog
from volplane.errors import ERRORS_BY_CODE, VolplaneError
from workers.context import JobContext, Runs


def debug_sleep(ctx: JobContext, req: rq.DebugSleep) -> dict[str, Any]:
    steps = max(1, int(req.seconds / 0.05))
    for step in range(steps):
        if not req.uninterruptible:
            ctx.checkpoint()
        ctx.progress(int(100 * step / steps))
        time.sleep(req.seconds / steps)
    if req.failWith:
        raise ERRORS_BY_CODE.get(req.failWith, VolplaneError)("DebugSleep was told to fail")
    if req.zoneName:
        zone = Zone(uuid=new_uuid(), name=req.zoneName)
        ctx.session.add(zone)
        ctx.session.flush()
        return {"inventory": zone_inventory(zone)}
    return {}


RUNS: Runs = {
    catalog.DEBUG_SLEEP: debug_sleep,
}
