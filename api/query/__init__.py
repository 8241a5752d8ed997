"""The ZStack query language (002 §3.9): parse a query string, compile it to SQL.

spec = parse_query(request.query_params.multi_items())
compiled = compile_query(registry, "volume", spec, actor=caller)  # volplane.tenancy decides
result = run_query(session, compiled)
"""

from api.query.compile import CompiledQuery, compile_query
from api.query.declarations import (
    FieldKind,
    QueryableResource,
    QueryField,
    QueryRegistry,
    QueryRelation,
)
from api.query.docs import render_query_docs
from api.query.parse import (
    DEFAULT_LIMIT,
    MAX_CONDITIONS,
    MAX_LIMIT,
    MAX_PATH_DEPTH,
    MAX_VALUE_LENGTH,
    QUERY_PARAMETERS,
    SYSTEM_TAG,
    USER_TAG,
    Condition,
    Operator,
    QuerySpec,
    parse_query,
)
from api.query.run import QueryResult, run_query

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_CONDITIONS",
    "MAX_LIMIT",
    "MAX_PATH_DEPTH",
    "MAX_VALUE_LENGTH",
    "QUERY_PARAMETERS",
    "SYSTEM_TAG",
    "USER_TAG",
    "CompiledQuery",
    "Condition",
    "FieldKind",
    "Operator",
    "QueryField",
    "QueryRegistry",
    "QueryRelation",
    "QueryResult",
    "QuerySpec",
    "QueryableResource",
    "compile_query",
    "parse_query",
    "render_query_docs",
    "run_query",
]
