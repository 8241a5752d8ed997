"""Who may see which rows: the one tenant policy of every dialect, route, operation
and query.

A normal account is a tenant. It sees and acts only on rows it owns (volumes,
snapshots, backups, jobs, its own account); a pool restricted by ``availTenants`` only
exists for the tenants it lists. Everything else (zones, clusters, hosts, open pools,
backup storage) is readable by all. An admin sees everything. What a tenant may not
see does not exist for it: the answer is the same not-found as for a uuid nobody uses.

A model states how it is owned with one class attribute, read here and nowhere else:

- ``__tenant_owner__ = "<column>"``: the row belongs to the account in that column;
- ``__tenant_list__ = "<column>"``: a JSON list of accounts the row is open to
  (SQL NULL, JSON null or an empty list: open to all).

``visible(Model, actor)`` is the rule as a where clause (it also takes an alias, so the
query compiler applies it at every join); ``may_see(row, actor)`` is the same rule for a
row already loaded; ``get_visible(session, Model, uuid, actor)`` loads a row or raises
the not-found error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, String, cast, false, inspect, or_, select, true
from sqlalchemy.orm import Session

from volplane.errors import NotFound, ResourceNotFound

T = TypeVar("T")

OWNER = "__tenant_owner__"
LISTED = "__tenant_list__"
_UUID = re.compile(r"[0-9a-f]{32}")


class Actor(Protocol):
    """Whoever a rule is applied for: a caller of the API, or a job running for one."""

    @property
    def account_uuid(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True)
class Tenant:
    """An account seen as a tenant (``is_admin=False``) or as an admin."""

    account_uuid: str
    is_admin: bool = False


ADMIN = Tenant(account_uuid="", is_admin=True)
"""Sees everything: internal reads that answer for no particular caller."""


def as_tenant(account_uuid: str | None) -> Tenant:
    """The actor for a tenant filter: ``None`` is no filter (an admin's view)."""
    return ADMIN if account_uuid is None else Tenant(account_uuid)


def _model(entity: Any) -> type:
    return inspect(entity).mapper.class_


def is_restricted(model: type) -> bool:
    """Whether a tenant sees only some rows of ``model``."""
    return hasattr(model, OWNER) or hasattr(model, LISTED)


def visible(entity: Any, actor: Actor) -> ColumnElement[bool]:
    """The rows of ``entity`` (a model or an alias of one) that ``actor`` may see."""
    if actor.is_admin:
        return true()
    model = _model(entity)
    if (owner := getattr(model, OWNER, None)) is not None:
        return getattr(entity, owner) == actor.account_uuid
    if (listed := getattr(model, LISTED, None)) is not None:
        column = getattr(entity, listed)
        text = cast(column, String)
        # JSON lists of 32-hex uuids: a text match on the quoted uuid is exact and reads
        # the same on SQLite and PostgreSQL.
        return or_(
            column.is_(None),
            text == "null",
            text == "[]",
            text.like(f'%"{actor.account_uuid}"%')
            if _UUID.fullmatch(actor.account_uuid)
            else false(),
        )
    return true()


def may_act_for(actor: Actor, account_uuid: str | None) -> bool:
    """Whether ``actor`` may see and act on what ``account_uuid`` owns."""
    return actor.is_admin or account_uuid == actor.account_uuid


def may_see(row: object, actor: Actor) -> bool:
    """The rule of ``visible`` for a row already loaded."""
    if actor.is_admin:
        return True
    model = type(row)
    if (owner := getattr(model, OWNER, None)) is not None:
        return may_act_for(actor, getattr(row, owner))
    if (listed := getattr(model, LISTED, None)) is not None:
        accounts = getattr(row, listed)
        return not accounts or actor.account_uuid in accounts
    return True


def noun(model: type) -> str:
    """``VolumeSnapshot`` -> ``volume snapshot``, for not-found messages."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower()


def not_found(
    model: type, uuid: object, *, what: str | None = None, error: type[NotFound] = ResourceNotFound
) -> NotFound:
    return error(f"{what or noun(model)} {uuid} does not exist")


def get_visible(
    session: Session,
    model: type[T],
    uuid: str | None,
    actor: Actor,
    *,
    lock: bool = False,
    what: str | None = None,
    error: type[NotFound] = ResourceNotFound,
) -> T:
    """The row whose ``uuid`` is ``uuid`` if ``actor`` may see it; else ``error``.

    ``lock`` reads it ``FOR UPDATE`` (and refreshes what the session already held).
    """
    row = None
    if uuid is not None:
        statement = select(model).where(model.uuid == uuid)  # type: ignore[attr-defined]
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = session.scalars(statement).first()
    if row is None or not may_see(row, actor):
        raise not_found(model, uuid, what=what, error=error)
    return row
