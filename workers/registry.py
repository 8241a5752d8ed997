"""Which function runs each declared operation (``volplane/catalog``): an explicit list."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from volplane.catalog import operations
from volplane.errors import UnknownAction
from volplane.operation import Operation
from volplane.settings import Settings
from workers.context import Run
from workers.operations import (
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

MODULES: list[ModuleType] = [
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
]


@dataclass(frozen=True)
class Runnable:
    operation: Operation[Any]
    run: Run


class RunRegistry:
    """Every operation this deployment offers, each with its run."""

    def __init__(self, settings: Settings) -> None:
        runs: dict[str, Run] = {}
        for module in MODULES:
            for operation, run in module.RUNS.items():
                runs[operation.api_name] = run
        self._runnables = {
            operation.api_name: Runnable(operation, runs[operation.api_name])
            for operation in operations(settings)
        }

    def get(self, api_name: str) -> Runnable:
        try:
            return self._runnables[api_name]
        except KeyError:
            raise UnknownAction(f"unknown operation {api_name}") from None

    def __contains__(self, api_name: object) -> bool:
        return api_name in self._runnables
