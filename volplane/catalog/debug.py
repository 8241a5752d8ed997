"""Test-only operations, declared: ``workers/operations/debug.py`` runs them."""

from __future__ import annotations

from schemas import requests as rq
from volplane.operation import Operation

DEBUG_SLEEP = Operation(
    "DebugSleep", rq.DebugSleep, "Debug", sync_key=lambda req, uuid: f"Debug:{uuid}"
)
