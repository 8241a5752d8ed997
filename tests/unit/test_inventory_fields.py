"""Every field a collection lets you query is a field of its inventories, so
``fields=`` (which keeps only the named ones) never answers a queryable field as null."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Boolean, DateTime, Integer, inspect

from api.resources import inventory_of, query_registry

REGISTRY = query_registry()
STATES = {"apiJob": "Succeeded"}  # columns whose values must be one of an enum


def sample_row(name: str, model: type) -> Any:
    """A row with a plausible value in every column (no database needed)."""
    row = model()
    for column in inspect(model).columns:
        if isinstance(column.type, DateTime):
            value: Any = datetime(2026, 1, 1, tzinfo=UTC)
        elif isinstance(column.type, Boolean):
            value = False
        elif isinstance(column.type, Integer):
            value = 0
        elif column.key == "state" and name in STATES:
            value = STATES[name]
        else:
            continue
        setattr(row, column.key, value)
    return row


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_queryable_field_is_in_the_inventory(name: str) -> None:
    resource = REGISTRY.get(name)
    inventory = inventory_of(name, sample_row(name, resource.model))
    assert sorted(set(resource.fields) - set(inventory)) == []
