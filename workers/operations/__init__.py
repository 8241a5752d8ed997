"""The registry of every operation a worker can run."""

from __future__ import annotations

from volplane.operations import OperationRegistry
from volplane.settings import Settings
from workers.operations import accounts, debug, zones


def build_registry(settings: Settings) -> OperationRegistry:
    registry = OperationRegistry()
    for module in (zones, accounts):
        for op in module.OPERATIONS:
            registry.add(op)
    if settings.enable_test_operations:
        for op in debug.OPERATIONS:
            registry.add(op)
    return registry
