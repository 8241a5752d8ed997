"""The registry of every operation a worker can run.

Each module here declares ``OPERATIONS``; ``debug`` only when test operations are on.
"""

from __future__ import annotations

from volplane.discovery import modules_of
from volplane.operations import OperationRegistry
from volplane.settings import Settings

TEST_ONLY_MODULES = {"workers.operations.debug"}


def build_registry(settings: Settings) -> OperationRegistry:
    registry = OperationRegistry()
    for module in modules_of("workers.operations"):
        if module.__name__ in TEST_ONLY_MODULES and not settings.enable_test_operations:
            continue
        for op in getattr(module, "OPERATIONS", ()):
            registry.add(op)
    return registry
