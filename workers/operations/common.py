"""Small helpers shared by operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from volplane.errors import ResourceNotFound
from workers.context import JobContext

T = TypeVar("T")


def get_or_404(session: Session, model: type[T], uuid: str, what: str) -> T:
    """The row, locked for this job's transaction, or RESOURCE.1001."""
    row = session.get(model, uuid, with_for_update=True)
    if row is None:
        raise ResourceNotFound(f"{what} {uuid} does not exist")
    return row


class _Deleting(Protocol):
    uuid: str


R = TypeVar("R", bound=_Deleting)


def absent_is_deleted(
    model: type[Any], run: Callable[[JobContext, R], dict[str, Any]]
) -> Callable[[JobContext, R], dict[str, Any]]:
    """A delete that succeeds when there is nothing to delete, as ZStack's deletes do: a
    retried or repeated delete of a resource already gone ends ``Succeeded`` with ``{}``.
    """

    def delete(ctx: JobContext, req: R) -> dict[str, Any]:
        if ctx.session.get(model, req.uuid) is None:
            return {}
        return run(ctx, req)

    delete.__name__ = delete.__qualname__ = getattr(run, "__name__", "delete")
    return delete
