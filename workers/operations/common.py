"""Small helpers shared by operations."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from volplane.errors import ResourceNotFound

T = TypeVar("T")


def get_or_404(session: Session, model: type[T], uuid: str, what: str) -> T:
    """The row, locked for this job's transaction, or RESOURCE.1001."""
    row = session.get(model, uuid, with_for_update=True)
    if row is None:
        raise ResourceNotFound(f"{what} {uuid} does not exist")
    return row
