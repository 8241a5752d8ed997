"""A short chaos run (``make chaos`` runs a longer one): every kind of process killed and
stopped in turn under a mixed workload, then nothing lost, doubled, stuck or left over."""

from __future__ import annotations

import os

import pytest

from tests.chaos.report import printed
from tests.chaos.run import run

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


def test_a_short_chaos_run_loses_doubles_and_leaves_nothing() -> None:
    if os.geteuid() != 0:
        pytest.fail("the chaos run needs root: it loop-mounts a small filesystem to fill")
    # Given the production topology under a mixed workload, when every kind of process
    # is killed and stopped in turn and a pool's filesystem fills up
    figures = run(75.0, actors=3, gap=(1.0, 2.0), hold=(1.5, 3.0))
    report = printed(figures)
    # Then every job ended once, the chains and capacities match, and nothing is left
    assert figures.accepted > 0, report
    assert figures.completed > 0, report
    assert figures.lost == 0, report
    assert figures.doubled == 0, report
    assert figures.stuck == 0, report
    assert figures.leftovers == 0, report
    assert figures.chain_mismatches == 0, report
    assert figures.capacity_mismatches == 0, report
    assert figures.unfinished_resources == 0, report
    # Each kind of process was killed and stopped at least once
    assert {(f.kind, f.action) for f in figures.faults} >= {
        (kind, action)
        for kind in ("gateway", "worker", "beat", "agent", "redis", "postgres")
        for action in ("kill", "stop")
    }, report
