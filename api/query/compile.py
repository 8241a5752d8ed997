"""Compiling a ``QuerySpec`` into SQLAlchemy statements, without touching a database.

Design choices (see also ``docs/query.md``):

- Every condition is one predicate, AND-ed. A dotted path becomes nested correlated
  ``EXISTS`` subqueries, one per relation hop, so to-many hops never duplicate rows and
  any depth nests the same way. Two conditions on the same relation are independent:
  ``q=snapshots.name=a&q=snapshots.size>5`` asks for *some* snapshot named ``a`` and
  *some* snapshot bigger than 5.
- Tenant isolation holds at every hop: ``volplane.tenancy.visible`` limits the
  resource's rows and every row reached through a relation to what the caller may see.
- SQL three-valued logic applies: ``!=``, ``!?=``, ``!~=`` and ordering never match NULL.
- Text compares the same on SQLite and PostgreSQL: ``~=`` is case-sensitive on both
  (SQLite's LIKE is not, so it compiles to an equivalent GLOB there) and ordering
  comparisons and sorting use byte order (``COLLATE "C"`` on PostgreSQL). NULLs sort
  first ascending and last descending, with the primary key as the tie-breaker.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.visitors import InternalTraversal

from api.query.declarations import FieldKind, QueryableResource, QueryField, QueryRegistry
from api.query.parse import (
    LIST_OPERATORS,
    NEGATIVE_OPERATORS,
    USER_TAG,
    Condition,
    Operator,
    QuerySpec,
    excerpt,
)
from schemas.tables import ResourceTag, to_millisecond
from volplane.errors import InvalidQuery
from volplane.tenancy import Actor, is_restricted, visible

_INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_EPOCH_MS = re.compile(r"-?[0-9]{1,15}")
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_ORDERED_KINDS = frozenset({FieldKind.STRING, FieldKind.INT, FieldKind.FLOAT, FieldKind.DATETIME})
_ORDERINGS = {
    Operator.GT: operator.gt,
    Operator.LT: operator.lt,
    Operator.GE: operator.ge,
    Operator.LE: operator.le,
}
_POSITIVE = {
    Operator.NE: Operator.EQ,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_LIKE: Operator.LIKE,
}


@dataclass(frozen=True)
class CompiledQuery:
    """The statements answering one query.

    ``rows`` selects ``resource.model`` entities, sorted and paged. ``total`` counts every
    match (or every group with ``groupBy``) when ``count``/``replyWithCount`` asked for it.
    With ``groupBy``, ``rows`` holds one representative per group (the row with the lowest
    primary key, like MySQL's GROUP BY in ZStack) and ``group_by`` selects
    ``(value, count)`` per group, ordered by value and paged by ``start``/``limit``.
    ``count_only`` means the caller answers ``{"total": N}`` and need not run ``rows``.
    """

    resource: QueryableResource
    rows: Select[Any]
    total: Select[Any] | None
    group_by: Select[Any] | None
    count_only: bool
    fields: tuple[str, ...] | None


def compile_query(
    registry: QueryRegistry, resource_name: str, spec: QuerySpec, *, actor: Actor
) -> CompiledQuery:
    """Builds the statements for ``spec`` on ``resource_name``, as ``actor`` sees it."""
    resource = registry.get(resource_name)
    model = resource.model
    where = [_predicate(registry, resource, model, c, 0, actor) for c in spec.conditions]
    if is_restricted(model) and not actor.is_admin:
        where.append(visible(model, actor))
    fields = None
    if spec.fields is not None:
        fields = tuple(_native(resource, name, "fields").name for name in spec.fields)
    order_by = _order_by(resource, spec.sort)

    if spec.group_by is None:
        rows: Select[Any] = select(model).where(*where)
        total = select(func.count()).select_from(model).where(*where)
        groups = None
    else:
        group_column = _native(resource, spec.group_by, "groupBy").column
        key = _primary_key(resource)
        representatives = select(func.min(key)).where(*where).group_by(group_column)
        rows = select(model).where(key.in_(representatives.scalar_subquery()))
        distinct = select(group_column).where(*where).group_by(group_column).subquery()
        total = select(func.count()).select_from(distinct)
        groups = (
            select(group_column.label("value"), func.count().label("count"))
            .where(*where)
            .group_by(group_column)
            .order_by(_ascending(_byte_order(group_column, resource, spec.group_by)))
            .offset(spec.start)
            .limit(spec.limit)
        )
    return CompiledQuery(
        resource=resource,
        rows=rows.order_by(*order_by).offset(spec.start).limit(spec.limit),
        total=total if spec.count or spec.reply_with_count else None,
        group_by=groups,
        count_only=spec.count,
        fields=fields,
    )


# --- conditions -------------------------------------------------------------


def _predicate(
    registry: QueryRegistry,
    resource: QueryableResource,
    entity: Any,
    condition: Condition,
    at: int,
    actor: Actor,
) -> ColumnElement[bool]:
    """The condition from path segment ``at`` on, with ``entity`` standing for ``resource``."""
    segment = condition.path[at]
    if at == len(condition.path) - 1:
        if condition.is_tag:
            return _tag_predicate(resource, entity, condition)
        found = resource.fields.get(segment)
        if found is None:
            raise InvalidQuery(_unknown(condition, at, resource))
        return _compare(_on(entity, found.column), found, condition)

    relation = resource.relations.get(segment)
    if relation is None:
        raise InvalidQuery(_unknown(condition, at, resource))
    target = registry.get(relation.target)
    hop: Any = aliased(target.model)  # each hop its own alias: paths may revisit a table
    clauses = [_on(hop, relation.remote) == _on(entity, relation.local)]
    if is_restricted(target.model) and not actor.is_admin:
        clauses.append(visible(hop, actor))
    clauses.append(_predicate(registry, target, hop, condition, at + 1, actor))
    return exists().where(*clauses)


def _tag_predicate(
    resource: QueryableResource, entity: Any, condition: Condition
) -> ColumnElement[bool]:
    """Tags match like ZStack's: a negative operator means "has no tag that matches"."""
    uuid = resource.fields.get("uuid")
    if resource.tag_resource_type is None or uuid is None:
        raise InvalidQuery(f"{resource.name} has no tags; {condition.field} does not apply")
    tag = aliased(ResourceTag)
    owned = and_(
        tag.resource_uuid == _on(entity, uuid.column),
        tag.resource_type == resource.tag_resource_type,
        tag.tag_type == ("user" if condition.field == USER_TAG else "system"),
    )
    if condition.op is Operator.IS_NULL:
        return ~exists().where(owned)
    if condition.op is Operator.NOT_NULL:
        return exists().where(owned)
    positive = Condition(condition.path, _POSITIVE.get(condition.op, condition.op), condition.value)
    tag_field = QueryField(condition.field, ResourceTag.tag, FieldKind.STRING)
    matching = exists().where(owned, _compare(tag.tag, tag_field, positive))
    return ~matching if condition.op in NEGATIVE_OPERATORS else matching


def _compare(column: Any, field: QueryField, condition: Condition) -> ColumnElement[bool]:
    op = condition.op
    raw = condition.value or ""
    if field.values is not None:
        if op in (Operator.EQ, Operator.NE, *LIST_OPERATORS):
            # Shown names become the stored values behind them: the index still serves.
            items = condition.values() if op in LIST_OPERATORS else [raw]
            stored = [v for item in items for v in _stored_as(field.values, item)]
            return column.in_(stored) if op in (Operator.EQ, Operator.IN) else column.not_in(stored)
        if field.values:
            column = case(dict(field.values), value=column, else_=column)
    if field.kind is FieldKind.DATETIME and op not in (Operator.IS_NULL, Operator.NOT_NULL):
        return _compare_date(column, condition)
    predicate: ColumnElement[bool]
    if op is Operator.IS_NULL:
        predicate = column.is_(None)
    elif op is Operator.NOT_NULL:
        predicate = column.is_not(None)
    elif op in (Operator.LIKE, Operator.NOT_LIKE):
        if field.kind is not FieldKind.STRING:
            raise InvalidQuery(f"{_path(condition)}: ~= and !~= apply to text, not {field.kind}")
        like = CaseSensitiveLike(column, raw)
        predicate = ~like if op is Operator.NOT_LIKE else like
    elif op in LIST_OPERATORS:
        values = [_typed(field, condition, item) for item in condition.values()]
        predicate = column.in_(values) if op is Operator.IN else column.not_in(values)
    elif op is Operator.EQ:
        predicate = column == _typed(field, condition, raw)
    elif op is Operator.NE:
        predicate = column != _typed(field, condition, raw)
    else:
        if field.kind not in _ORDERED_KINDS:
            raise InvalidQuery(f"{_path(condition)}: {op.value} does not apply to {field.kind}")
        ordered: Any = ByteOrder(column) if field.kind is FieldKind.STRING else column
        value = _typed(field, condition, raw)
        predicate = _ORDERINGS[op](ordered, value)
    return predicate


def _compare_date(column: Any, condition: Condition) -> ColumnElement[bool]:
    """Dates compare at the precision they are shown with (milliseconds): a value names
    its whole millisecond, so ``createDate=<a shown date>`` finds the row, ``<=`` takes
    it in and ``>`` leaves it out, even for a row stored with finer precision."""
    op = condition.op
    if op in (Operator.LIKE, Operator.NOT_LIKE):
        raise InvalidQuery(f"{_path(condition)}: ~= and !~= apply to text, not datetime")
    field = QueryField(condition.field, column, FieldKind.DATETIME)
    items = condition.values() if op in LIST_OPERATORS else [condition.value or ""]
    starts = [to_millisecond(_typed(field, condition, item)) for item in items]

    def within(start: datetime) -> ColumnElement[bool]:
        return and_(column >= start, column < start + _MILLISECOND)

    start = starts[0]
    predicates: dict[Operator, Any] = {
        Operator.EQ: lambda: within(start),
        Operator.NE: lambda: or_(column < start, column >= start + _MILLISECOND),
        Operator.IN: lambda: or_(*(within(s) for s in starts)),
        Operator.NOT_IN: lambda: and_(*(~within(s) for s in starts)),
        Operator.GT: lambda: column >= start + _MILLISECOND,
        Operator.GE: lambda: column >= start,
        Operator.LT: lambda: column < start,
        Operator.LE: lambda: column < start + _MILLISECOND,
    }
    return predicates[op]()


def _stored_as(values: Mapping[str, str], shown: str) -> list[str]:
    """The stored values shown as ``shown``; ``shown`` itself when none is (a value
    given as stored keeps matching)."""
    return [stored for stored, name in values.items() if name == shown] or [shown]


def _typed(field: QueryField, condition: Condition, raw: str) -> Any:
    """Reads ``raw`` as the field's kind; a wrong type names the field."""
    kind = field.kind
    value: Any = None
    if kind is FieldKind.STRING:
        return raw
    if kind is FieldKind.INT and _INTEGER.fullmatch(raw):
        value = int(raw)
        value = value if _INT64[0] <= value <= _INT64[1] else None
    elif kind is FieldKind.FLOAT and _FLOAT.fullmatch(raw):
        value = float(raw)
        value = value if math.isfinite(value) else None
    elif kind is FieldKind.BOOL and raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    elif kind is FieldKind.DATETIME:
        value = _datetime(raw)
    if value is None:
        expected = {
            FieldKind.INT: "a 64-bit integer",
            FieldKind.FLOAT: "a finite number",
            FieldKind.BOOL: "true or false",
            FieldKind.DATETIME: "an ISO 8601 date-time or epoch milliseconds",
        }[kind]
        raise InvalidQuery(f"{_path(condition)}: {excerpt(raw)} is not {expected}")
    return value


def _datetime(raw: str) -> datetime | None:
    try:
        if _EPOCH_MS.fullmatch(raw):
            return _UNIX_EPOCH + timedelta(milliseconds=int(raw))
        parsed = datetime.fromisoformat(raw)
        # Naive means UTC; aware values are normalised because SQLite stores wall time.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None


# --- sorting, fields, groups ------------------------------------------------


def _order_by(resource: QueryableResource, sort: tuple[str, bool] | None) -> list[Any]:
    keys: list[Any] = []
    if sort is not None:
        field = _native(resource, sort[0], "sort")
        column: Any = _byte_order(field.column, resource, field.name)
        keys.append(_ascending(column) if sort[1] else column.desc().nulls_last())
    elif resource.default_sort in resource.fields:
        field = resource.fields[resource.default_sort]
        keys.append(_ascending(_byte_order(field.column, resource, field.name)))
    primary_key: Any = inspect(resource.model).primary_key
    keys.extend(key.asc() for key in primary_key)
    return keys


def _ascending(column: ColumnElement[Any]) -> UnaryExpression[Any]:
    return column.asc().nulls_first()


def _byte_order(column: Any, resource: QueryableResource, name: str) -> Any:
    return ByteOrder(column) if resource.fields[name].kind is FieldKind.STRING else column


def _native(resource: QueryableResource, name: str, parameter: str) -> QueryField:
    found = resource.fields.get(name)
    if found is None:
        raise InvalidQuery(
            f"{parameter}: {name!r} is not a native field of {resource.name}; "
            f"fields: {', '.join(sorted(resource.fields))}"
        )
    return found


def _primary_key(resource: QueryableResource) -> Any:
    key: Any = inspect(resource.model).primary_key
    if len(key) != 1:
        raise InvalidQuery(f"groupBy is not supported on {resource.name}")
    return key[0]


# --- helpers ----------------------------------------------------------------


def _on(entity: Any, attribute: InstrumentedAttribute[Any]) -> Any:
    """The same mapped attribute on an alias (or on the model itself)."""
    return getattr(entity, attribute.key)


def _path(condition: Condition) -> str:
    return ".".join(condition.path)


def _unknown(condition: Condition, at: int, resource: QueryableResource) -> str:
    segment = condition.path[at]
    where = _path(condition)
    if at == len(condition.path) - 1 and segment in resource.relations:
        return (
            f"{where!r}: {segment!r} is a relation of {resource.name}; name one of its fields "
            f"after it ({segment}.uuid, ...)"
        )
    if at < len(condition.path) - 1 and segment in resource.fields:
        return f"{where!r}: {segment!r} is a field of {resource.name}, not a relation"
    kind = "field" if at == len(condition.path) - 1 else "relation"
    return f"{where!r}: unknown {kind} {segment!r}; {resource.describe()}"


# --- portable text comparisons ----------------------------------------------


def like_patterns(value: str) -> tuple[str, str]:
    """The user's ``~=`` value as a LIKE pattern (escape ``\\``) and as a SQLite GLOB.

    ``%`` and ``_`` are wildcards; a backslash makes the next character literal.
    """
    like: list[str] = []
    glob: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "%":
            like.append("%")
            glob.append("*")
            continue
        if char == "_":
            like.append("_")
            glob.append("?")
            continue
        if char == "\\":
            char = next(chars, "\\")
        like.append("\\" + char if char in "%_\\" else char)
        glob.append("[" + char + "]" if char in "*?[" else char)
    return "".join(like), "".join(glob)


class CaseSensitiveLike(ColumnElement[bool]):
    """``column LIKE pattern`` matching case on every backend.

    Both patterns are bound parameters and part of the cache key, so a cached compiled
    form never reuses another statement's pattern.
    """

    __visit_name__ = "case_sensitive_like"
    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("text_column", InternalTraversal.dp_clauseelement),
        ("like_pattern", InternalTraversal.dp_clauseelement),
        ("glob_pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, value: str) -> None:
        like, glob = like_patterns(value)
        self.text_column = column
        self.like_pattern = literal(like)
        self.glob_pattern = literal(glob)


@compiles(CaseSensitiveLike)
def _like_default(element: CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.text_column, **kw)
    return f"({column} LIKE {compiler.process(element.like_pattern, **kw)} ESCAPE '\\')"


@compiles(CaseSensitiveLike, "sqlite")
def _like_sqlite(element: CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.text_column, **kw)
    return f"({column} GLOB {compiler.process(element.glob_pattern, **kw)})"


class ByteOrder(ColumnElement[Any]):
    """A text column compared and sorted by code point, whatever the database collation."""

    __visit_name__ = "byte_order"
    inherit_cache = True
    _traverse_internals = [("text_column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any) -> None:
        self.text_column = column
        self.type = column.type


@compiles(ByteOrder)
def _byte_order_default(element: ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.text_column, **kw)


@compiles(ByteOrder, "postgresql")
def _byte_order_postgresql(element: ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.text_column, **kw)} COLLATE "C")'
