"""``docs/query.md``: the query language and every resource's fields and relations,
rendered from the declarations so the documentation cannot drift from the code."""

from __future__ import annotations

from api.query.declarations import QueryRegistry
from api.query.parse import (
    DEFAULT_LIMIT,
    MAX_CONDITIONS,
    MAX_LIMIT,
    MAX_PATH_DEPTH,
    MAX_VALUE_LENGTH,
    Operator,
)
from volplane.tenancy import OWNER, is_restricted

_TENANT_RULE = {
    True: "Accounts other than admin see only their own rows.",
    False: "Accounts other than admin see only the rows open to them (`availTenants`).",
}

_OPERATORS = {
    Operator.EQ: "equals",
    Operator.NE: "differs (never matches null)",
    Operator.GT: "greater than",
    Operator.LT: "less than",
    Operator.GE: "greater than or equal",
    Operator.LE: "less than or equal",
    Operator.IN: "is one of a comma-separated list",
    Operator.NOT_IN: "is none of a comma-separated list (never matches null)",
    Operator.LIKE: "matches a case-sensitive pattern: `%` any run, `_` one character, "
    "`\\` makes the next character literal",
    Operator.NOT_LIKE: "does not match the pattern (never matches null)",
    Operator.IS_NULL: "is null (`q=description=null`)",
    Operator.NOT_NULL: "is not null",
}


def render_query_docs(registry: QueryRegistry) -> str:
    """Markdown describing the query parameters and each registered resource."""
    lines = [
        "# Querying collections",
        "",
        "Every collection `GET` accepts the parameters of ZStack's query API (002 §3.9).",
        "This page is generated from the code (`api/query/docs.py`).",
        "",
        "| parameter | meaning |",
        "| --- | --- |",
        "| `q=<field><op><value>` | a condition; repeat it, conditions are AND-ed; no spaces |",
        f"| `limit` | at most this many rows (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}) |",
        "| `start` | skip this many rows (offset) |",
        '| `count=true` | answer only `{"total": N}` |',
        "| `replyWithCount=true` | add `total` (all matches, ignoring start/limit) |",
        "| `sort=+field` / `sort=-field` | ascending / descending on a native field "
        "(also `sortBy` with `sortDirection` `asc` or `desc`) |",
        "| `fields=a,b` | return only these native fields (repeatable) |",
        "| `groupBy=field` | one row per distinct value of a native field (the row with the "
        "lowest primary key); `total` counts the groups |",
        "",
        "## Operators",
        "",
        "| operator | the field ... |",
        "| --- | --- |",
    ]
    lines += [f"| `{op.value}` | {text} |" for op, text in _OPERATORS.items()]
    lines += [
        "",
        "Values are read as the field's type: integers, numbers, `true`/`false`, date-times "
        "as ISO 8601 (UTC when no offset is given) or epoch milliseconds. Text compares and "
        "sorts by code point; nulls sort first ascending. A path `relation.field` "
        "(`q=primaryStorage.zone.name=z1`) matches when *some* related row matches; "
        "each condition is evaluated on its own.",
        "",
        "`__userTag__` and `__systemTag__` match the resource's tags (also after a relation, "
        "`primaryStorage.__userTag__=gold`); `!=`, `!?=` and `!~=` on a tag mean "
        "*has no matching tag*, `=null` *has no tag at all*.",
        "",
        f"Limits: {MAX_CONDITIONS} conditions, {MAX_PATH_DEPTH} relation hops per path, "
        f"{MAX_VALUE_LENGTH} characters per value. An unknown field or relation, a value of "
        "the wrong type or a limit exceeded is a `400` with code `VOLPLANE.ARG.1007`.",
        "",
        "## Resources",
    ]
    for resource in sorted(registry, key=lambda r: r.name):
        lines += ["", f"### {resource.name}", "", "| field | type |", "| --- | --- |"]
        lines += [f"| `{f.name}` | {f.kind.value} |" for f in resource.fields.values()]
        if resource.tag_resource_type is not None and "uuid" in resource.fields:
            lines += ["| `__userTag__`, `__systemTag__` | tag (string) |"]
        if resource.relations:
            lines += ["", "| relation | resource |", "| --- | --- |"]
            lines += [f"| `{r.name}.` | {r.target} |" for r in resource.relations.values()]
        if is_restricted(resource.model):
            lines += ["", _TENANT_RULE[getattr(resource.model, OWNER, None) is not None]]
    return "\n".join(lines) + "\n"
