"""Every operation volplane runs, declared once (``volplane.operation.Operation``).

One module per area. To add an operation: declare it in its area's module, list a
new module in ``AREAS``, attach its run in ``workers/operations/`` (``RUNS``) and
route to it from ``api/routes/``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from volplane.catalog import (
    accounts,
    backup_storage,
    backups,
    clones,
    clusters,
    dbsnapshot,
    debug,
    disk_offerings,
    global_config,
    hosts,
    inspection,
    local_storage,
    manage,
    primary_storage,
    snapshots,
    volumes,
    zones,
)
from volplane.operation import Operation, OperationRegistry
from volplane.settings import Settings

AREAS: list[ModuleType] = [
    accounts,
    backup_storage,
    backups,
    clones,
    clusters,
    dbsnapshot,
    disk_offerings,
    global_config,
    hosts,
    inspection,
    local_storage,
    manage,
    primary_storage,
    snapshots,
    volumes,
    zones,
]
TEST_ONLY_AREAS: list[ModuleType] = [debug]


def declared_in(module: ModuleType) -> list[Operation[Any]]:
    return [value for value in vars(module).values() if isinstance(value, Operation)]


def operations(settings: Settings) -> OperationRegistry:
    """The operations this deployment offers (test-only ones when enabled)."""
    registry = OperationRegistry()
    areas = AREAS + (TEST_ONLY_AREAS if settings.enable_test_operations else [])
    for module in areas:
        for operation in declared_in(module):
            registry.add(operation)
    return registry
