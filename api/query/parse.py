"""Reading a ZStack query string into a ``QuerySpec`` (002 §3.9).

Pure and schema-free: it checks the syntax and the size limits that protect the
database, while field names and value types are checked by the compiler, which knows
the resources. Every failure is an ``InvalidQuery`` whose details quote the bad part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from volplane.errors import InvalidQuery

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_START = 2**31 - 1
MAX_CONDITIONS = 100
MAX_PATH_DEPTH = 5  # relation hops; also what bounds cyclic paths (zone.clusters.zone...)
MAX_VALUE_LENGTH = 4096
MAX_LIST_VALUES = 10_000  # all ?= / !?= items together: bound parameters are finite
MAX_FIELDS = 100

USER_TAG = "__userTag__"
SYSTEM_TAG = "__systemTag__"
TAG_FIELDS = frozenset({USER_TAG, SYSTEM_TAG})

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*"
_IDENTIFIER = re.compile(_SEGMENT)
# The operator is whatever starts right after the path; longest alternatives first so
# that "!?=" is not read as "!" + "?=" and ">=" not as ">" with a value "=...".
_CONDITION = re.compile(
    rf"(?P<path>{_SEGMENT}(?:\.{_SEGMENT})*)(?P<op>!\?=|!~=|!=|>=|<=|\?=|~=|=|>|<)(?P<value>.*)",
    re.DOTALL,
)
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


class Operator(StrEnum):
    EQ = "="
    NE = "!="
    GT = ">"
    LT = "<"
    GE = ">="
    LE = "<="
    IN = "?="
    NOT_IN = "!?="
    LIKE = "~="
    NOT_LIKE = "!~="
    IS_NULL = "=null"
    NOT_NULL = "!=null"


NEGATIVE_OPERATORS = frozenset({Operator.NE, Operator.NOT_IN, Operator.NOT_LIKE})
LIST_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})


@dataclass(frozen=True)
class Condition:
    """``path`` is the dotted field path split on dots: relations, then the field (which
    may be ``__userTag__``/``__systemTag__``). ``value`` is None for the null operators."""

    path: tuple[str, ...]
    op: Operator
    value: str | None

    @property
    def field(self) -> str:
        return self.path[-1]

    @property
    def relations(self) -> tuple[str, ...]:
        return self.path[:-1]

    @property
    def is_tag(self) -> bool:
        return self.field in TAG_FIELDS

    def values(self) -> list[str]:
        """The comma-separated items of an ``?=``/``!?=`` value."""
        return (self.value or "").split(",")

    def __str__(self) -> str:
        if self.op is Operator.IS_NULL or self.op is Operator.NOT_NULL:
            return ".".join(self.path) + self.op.value
        return ".".join(self.path) + self.op.value + (self.value or "")


@dataclass(frozen=True)
class QuerySpec:
    """A parsed query. ``sort`` is ``(field, ascending)``; ``fields`` and ``group_by`` are
    native field names, still to be checked against the resource by the compiler."""

    conditions: tuple[Condition, ...] = ()
    limit: int = DEFAULT_LIMIT
    start: int = 0
    count: bool = False
    reply_with_count: bool = False
    sort: tuple[str, bool] | None = None
    fields: tuple[str, ...] | None = None
    group_by: str | None = None

    @property
    def user_tags(self) -> tuple[Condition, ...]:
        """The ``__userTag__`` conditions on the queried resource itself."""
        return tuple(c for c in self.conditions if c.path == (USER_TAG,))

    @property
    def system_tags(self) -> tuple[Condition, ...]:
        """The ``__systemTag__`` conditions on the queried resource itself."""
        return tuple(c for c in self.conditions if c.path == (SYSTEM_TAG,))


QUERY_PARAMETERS = frozenset(
    {"q", "limit", "start", "count", "replyWithCount", "sort", "sortBy", "sortDirection"}
    | {"fields", "groupBy"}
)
_SINGLE_VALUED = QUERY_PARAMETERS - {"q", "fields"}


def parse_query(params: Sequence[tuple[str, str]]) -> QuerySpec:
    """Reads the query-string pairs of a collection ``GET``, in order, repeated keys kept.

    Keys other than the query parameters (``QUERY_PARAMETERS``) are left to the caller.
    """
    conditions: list[Condition] = []
    fields: list[str] | None = None
    single: dict[str, str] = {}
    for key, raw in params:
        if key == "q":
            if len(conditions) == MAX_CONDITIONS:
                raise InvalidQuery(f"at most {MAX_CONDITIONS} q conditions are allowed")
            conditions.append(parse_condition(raw))
        elif key == "fields":
            fields = [*(fields or []), *_parse_fields(raw)]
        elif key in _SINGLE_VALUED:
            if key in single:
                raise InvalidQuery(f"the parameter {key!r} is given more than once")
            single[key] = raw
    list_values = sum(len(c.values()) for c in conditions if c.op in LIST_OPERATORS)
    if list_values > MAX_LIST_VALUES:
        raise InvalidQuery(f"at most {MAX_LIST_VALUES} ?= / !?= values are allowed in all")
    if fields is not None:
        fields = list(dict.fromkeys(fields))
        if len(fields) > MAX_FIELDS:
            raise InvalidQuery(f"at most {MAX_FIELDS} fields may be selected")
    return QuerySpec(
        conditions=tuple(conditions),
        limit=_parse_count("limit", single.get("limit"), DEFAULT_LIMIT, MAX_LIMIT),
        start=_parse_count("start", single.get("start"), 0, MAX_START),
        count=_parse_bool("count", single.get("count")),
        reply_with_count=_parse_bool("replyWithCount", single.get("replyWithCount")),
        sort=_parse_sort(single.get("sort"), single.get("sortBy"), single.get("sortDirection")),
        fields=None if fields is None else tuple(fields),
        group_by=_parse_name("groupBy", single["groupBy"]) if "groupBy" in single else None,
    )


def parse_condition(raw: str) -> Condition:
    """Reads one ``q`` value: ``<field path><operator><value>`` with no spaces."""
    if len(raw) > MAX_VALUE_LENGTH + 512:
        raise InvalidQuery(f"the condition {excerpt(raw)} is too long")
    match = _CONDITION.fullmatch(raw)
    if match is None:
        raise InvalidQuery(
            f"the condition {excerpt(raw)} is not <field><operator><value> (no spaces); "
            "operators: " + " ".join(op.value for op in Operator)
        )
    path = tuple(match["path"].split("."))
    if len(path) - 1 > MAX_PATH_DEPTH:
        raise InvalidQuery(
            f"the condition {excerpt(raw)} crosses more than {MAX_PATH_DEPTH} relations"
        )
    op, value = Operator(match["op"]), match["value"]
    _check_text(value, f"the value of {match['path']}")
    if value == "null" and op is Operator.EQ:
        return Condition(path, Operator.IS_NULL, None)
    if value == "null" and op is Operator.NE:
        return Condition(path, Operator.NOT_NULL, None)
    return Condition(path, op, value)


def _check_text(value: str, what: str) -> None:
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidQuery(f"{what} is longer than {MAX_VALUE_LENGTH} characters")
    if "\x00" in value:
        raise InvalidQuery(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuery(f"{what} is not valid text") from None


def _parse_fields(raw: str) -> list[str]:
    return [_parse_name("fields", item.strip()) for item in raw.split(",") if item.strip()]


def _parse_name(parameter: str, raw: str) -> str:
    if _IDENTIFIER.fullmatch(raw) is None:
        raise InvalidQuery(f"{parameter}: {excerpt(raw)} is not a native field name")
    return raw


def _parse_count(parameter: str, raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if _INTEGER.fullmatch(raw) is None:
        raise InvalidQuery(f"{parameter} must be an integer, not {excerpt(raw)}")
    number = int(raw)
    if number < 0:
        raise InvalidQuery(f"{parameter} must not be negative")
    if number > maximum:
        raise InvalidQuery(f"{parameter} must be at most {maximum}")
    return number


def _parse_bool(parameter: str, raw: str | None) -> bool:
    if raw is None:
        return False
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise InvalidQuery(f"{parameter} must be true or false, not {excerpt(raw)}")


def _parse_sort(
    sort: str | None, sort_by: str | None, direction: str | None
) -> tuple[str, bool] | None:
    if sort is not None and sort_by is not None:
        raise InvalidQuery("give either sort=+field|-field or sortBy/sortDirection, not both")
    if sort is not None:
        # An unencoded "+" reaches us as a space; a bare field name sorts ascending.
        if sort[:1] in ("+", " ", "-"):
            return _parse_name("sort", sort[1:]), sort[0] != "-"
        return _parse_name("sort", sort), True
    if sort_by is not None:
        order = (direction or "asc").lower()
        if order not in ("asc", "desc"):
            raise InvalidQuery(f"sortDirection must be asc or desc, not {excerpt(direction)}")
        return _parse_name("sortBy", sort_by), order == "asc"
    if direction is not None:
        raise InvalidQuery("sortDirection needs sortBy")
    return None


def excerpt(raw: str | None, width: int = 80) -> str:
    """Quotes user text in a message without echoing kilobytes back."""
    text = raw or ""
    return repr(text if len(text) <= width else text[:width] + "...")
