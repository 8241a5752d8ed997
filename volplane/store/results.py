"""Typing help for SQLAlchemy results."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (its CursorResult's rowcount)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
