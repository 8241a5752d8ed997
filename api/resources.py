"""The query registry: every queryable resource, declared by its route module.

Each declaration answers queries, names valid fields in errors and writes
``docs/query.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from api.query import FieldKind, QueryField, QueryRegistry

S, I, F, D, B = (  # noqa: E741 - short kind names keep declarations readable
    FieldKind.STRING,
    FieldKind.INT,
    FieldKind.FLOAT,
    FieldKind.DATETIME,
    FieldKind.BOOL,
)
Inventory = Callable[[Any], dict[str, Any]]


def fields(
    *items: tuple[str, Any, FieldKind] | tuple[str, Any, FieldKind, Any],
) -> dict[str, QueryField]:
    """Shorthand for declaring fields: ``fields(("name", Zone.name, S), ...)``; a fourth
    item is the field's vocabulary (stored → shown, see ``QueryField.values``)."""
    return {item[0]: QueryField(*item) for item in items}


@cache
def _catalog() -> tuple[QueryRegistry, dict[str, Inventory]]:
    registry = QueryRegistry()
    inventories: dict[str, Inventory] = {}
    # Imported on first use: the route modules import this one for ``fields``.
    from api.routes import (
        accounts,
        backup_storage,
        backups,
        clusters,
        disk_offerings,
        hosts,
        jobs,
        local_storage,
        primary_storage,
        snapshots,
        volumes,
        zones,
    )

    modules = [
        accounts,
        backup_storage,
        backups,
        clusters,
        disk_offerings,
        hosts,
        jobs,
        local_storage,
        primary_storage,
        snapshots,
        volumes,
        zones,
    ]
    for module in modules:
        for resource, inventory in module.QUERYABLE:
            registry.register(resource)
            inventories[resource.name] = inventory
    return registry, inventories


def query_registry() -> QueryRegistry:
    return _catalog()[0]


def inventory_of(resource: str, row: Any) -> dict[str, Any]:
    return _catalog()[1][resource](row)
