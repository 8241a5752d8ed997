"""Running a ``CompiledQuery`` on a synchronous session (the only I/O of the package)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.query.compile import CompiledQuery


@dataclass(frozen=True)
class QueryResult:
    """``rows`` are model instances (empty for ``count=true``); ``groups`` is
    ``[(value, count), ...]`` with ``groupBy``."""

    rows: list[Any]
    total: int | None
    groups: list[tuple[Any, int]] | None = None


def run_query(session: Session, compiled: CompiledQuery) -> QueryResult:
    rows = [] if compiled.count_only else list(session.scalars(compiled.rows).all())
    total = None if compiled.total is None else int(session.scalar(compiled.total) or 0)
    groups = None
    if compiled.group_by is not None:
        groups = [(value, int(count)) for value, count in session.execute(compiled.group_by)]
    return QueryResult(rows=rows, total=total, groups=groups)
