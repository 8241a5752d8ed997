"""The OpenAPI 3.1 description of the ZStack-dialect routes, built from what the code
declares: the routes of ``api.routes``, the request model of each operation they submit,
and the queryable fields of each collection.

Which operation a handler submits is read from its code: the operation names (and
``{action: operation}`` tables) it mentions. A route module can say more, or correct
that, with ``OPENAPI = {(method, path): {...operation object...}}``.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from starlette.routing import BaseRoute, Mount, Route

from api import openapi_dialects as dialects
from api.query import FieldKind
from api.query.declarations import QueryableResource, QueryField
from api.share.app import PREFIXES as SHARE_PREFIXES
from volplane.operation import Operation, OperationRegistry

ERROR_STATUSES = ("400", "401", "403", "404", "405", "409", "422", "503")
QUERY_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "q",
        "in": "query",
        "description": "Condition `<field><op><value>` (CONTRACT §4); repeatable, AND-ed.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "start", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "count", "in": "query", "schema": {"type": "boolean"}},
    {"name": "replyWithCount", "in": "query", "schema": {"type": "boolean"}},
    {"name": "sort", "in": "query", "schema": {"type": "string", "pattern": "^[+-]?[A-Za-z.]+$"}},
    {"name": "fields", "in": "query", "schema": {"type": "string"}},
    {"name": "groupBy", "in": "query", "schema": {"type": "string"}},
]
_KIND_SCHEMA: dict[FieldKind, dict[str, Any]] = {
    FieldKind.STRING: {"type": ["string", "null"]},
    FieldKind.INT: {"type": ["integer", "null"]},
    FieldKind.FLOAT: {"type": ["number", "null"]},
    FieldKind.DATETIME: {"type": ["string", "null"], "format": "date-time"},
    FieldKind.BOOL: {"type": ["boolean", "null"]},
}
COMPONENTS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "description", "details"],
                "properties": {
                    "code": {"type": "string", "pattern": r"^VOLPLANE\.[A-Z]+\.\d{4}$"},
                    "description": {"type": "string"},
                    "details": {"type": "string"},
                    "elaboration": {},
                    "location": {},
                },
            }
        },
    },
    "AcceptedJob": {
        "type": "object",
        "required": ["location", "apiTimeout"],
        "properties": {"location": {"type": "string"}, "apiTimeout": {"type": "integer"}},
    },
    "JobInProgress": {
        "type": "object",
        "required": ["location", "state"],
        "properties": {
            "location": {"type": "string"},
            "state": {"enum": ["Pending", "Running"]},
            "progress": {"type": ["integer", "null"]},
        },
    },
    "Count": {
        "type": "object",
        "required": ["total"],
        "properties": {"total": {"type": "integer"}},
    },
}
JOB_UUID_HEADER = {
    "name": "X-Job-UUID",
    "in": "header",
    "required": False,
    "description": "Client-chosen job id (a v4 UUID, 32 lowercase hex digits): a retry with "
    "the same id and request returns the same job.",
    "schema": {"type": "string", "pattern": "^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$"},
}
ASYNC_NOTE = (
    "Asynchronous: answers 202 with the job's location; poll it (`?waitSeconds=`) or pass "
    "`X-Web-Hook: <url>` to have the result pushed."
)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _mentioned(handler: Any, names: Iterable[str]) -> list[str]:
    """The strings of ``names`` that a handler mentions, directly or through a
    module-level ``{action: name}`` table, in the order they appear."""
    wanted = set(names)
    declared = getattr(handler, "action_table", None)
    if declared is not None:
        return [name for name in dict.fromkeys(declared.values()) if name in wanted]
    api_name = getattr(handler, "api_name", None)
    if api_name is not None:
        return [api_name] if api_name in wanted else []
    code = getattr(handler, "__code__", None)
    if code is None:
        return []
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, Operation):
            value = value.api_name
        if isinstance(value, str) and value in wanted and value not in found:
            found.append(value)
        elif isinstance(value, frozenset | tuple):
            for item in sorted(value, key=str):
                add(item)

    for const in code.co_consts:
        add(const)
        if inspect.iscode(const):  # nested functions and lambdas
            for inner in const.co_consts:
                add(inner)
    module = inspect.getmodule(handler)
    for name in code.co_names:
        table = getattr(module, name, None)
        if isinstance(table, Operation):  # a declaration the handler submits
            add(table)
        elif isinstance(table, dict):
            for value in table.values():
                add(value)
    return found


def _action_table(handler: Any, api_names: set[str]) -> dict[str, str]:
    """``{action key: operation}`` for an actions handler."""
    declared = getattr(handler, "action_table", None)
    if declared is not None:
        return {str(k): str(v) for k, v in declared.items() if v in api_names}
    module = inspect.getmodule(handler)
    code = getattr(handler, "__code__", None)
    for name in getattr(code, "co_names", ()):
        table = getattr(module, name, None)
        if isinstance(table, dict) and table:
            names = {k: v.api_name if isinstance(v, Operation) else v for k, v in table.items()}
            if set(names.values()) <= api_names:
                return {str(k): str(v) for k, v in names.items()}
    return {}


def _field_schema(field: QueryField) -> dict[str, Any]:
    schema = dict(_KIND_SCHEMA[field.kind])
    if field.values:  # shown under ZStack's names (schemas/zstack_wire.py)
        schema["description"] = "One of " + ", ".join(sorted(set(field.values.values())))
    return schema


class SpecBuilder:
    def __init__(
        self, operations: OperationRegistry, queryable: dict[str, QueryableResource]
    ) -> None:
        self.operations = operations
        self.queryable = queryable
        self.schemas: dict[str, Any] = copy.deepcopy(COMPONENTS)

    def model_ref(self, model: type[BaseModel]) -> dict[str, Any]:
        name = model.__name__
        if name not in self.schemas:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in schema.pop("$defs", {}).items():
                self.schemas.setdefault(def_name, definition)
            self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def without_path_fields(self, model: type[BaseModel], path: str) -> dict[str, Any]:
        """The model's schema minus the fields the path supplies (``{uuid}``)."""
        self.model_ref(model)
        schema = copy.deepcopy(self.schemas[model.__name__])
        for field in re.findall(r"{(\w+)}", path):
            schema.get("properties", {}).pop(field, None)
            if field in schema.get("required", []):
                schema["required"] = [r for r in schema["required"] if r != field]
        if not schema.get("required"):
            schema.pop("required", None)
        return dict(schema)

    def inventory_schema(self, resource: QueryableResource) -> dict[str, Any]:
        name = f"{resource.name[:1].upper()}{resource.name[1:]}Inventory"
        if name not in self.schemas:
            self.schemas[name] = {
                "type": "object",
                "properties": {
                    field.name: _field_schema(field) for field in resource.fields.values()
                },
                "additionalProperties": True,
            }
        return {"$ref": f"#/components/schemas/{name}"}

    def operation(self, method: str, path: str, handler: Any) -> dict[str, Any]:
        api_names = set(self.operations.operations)
        submitted = _mentioned(handler, api_names)
        collection = _mentioned(handler, self.queryable)
        summary = (handler.__doc__ or "").strip().splitlines()[0:1]
        operation: dict[str, Any] = {
            "operationId": f"{method.lower()}_{handler.__name__}_{_slug(path)}",
            "tags": [path.split("/")[2] if path.count("/") >= 2 else "misc"],
            "parameters": self.path_parameters(path, handler, submitted),
            "responses": {
                status: {
                    "description": "Error",
                    "content": _json({"$ref": "#/components/schemas/Error"}),
                }
                for status in ERROR_STATUSES
            },
        }
        if summary:
            operation["summary"] = summary[0]
        if method == "GET" and collection:
            resource = self.queryable[collection[0]]
            operation["parameters"] += QUERY_PARAMETERS
            operation["summary"] = operation.get("summary") or f"Query {resource.name}s"
            listing = {
                "type": "object",
                "properties": {
                    "inventories": {"type": "array", "items": self.inventory_schema(resource)},
                    "total": {"type": "integer"},
                },
            }
            operation["responses"]["200"] = {"description": "Found", "content": _json(listing)}
            return operation
        if submitted and method != "GET":
            operation["parameters"].append(JOB_UUID_HEADER)
            operation["description"] = ASYNC_NOTE
            operation["summary"] = operation.get("summary") or " / ".join(submitted)
            operation["responses"]["202"] = {
                "description": "Accepted: a job was recorded",
                "headers": {
                    "Location": {"schema": {"type": "string"}},
                    "X-Job-UUID": {"schema": {"type": "string"}},
                },
                "content": _json({"$ref": "#/components/schemas/AcceptedJob"}),
            }
            body = self.request_body(method, path, handler, submitted)
            if body is not None:
                operation["requestBody"] = body
            elif method == "DELETE":
                model = self.operations.get(submitted[0]).request_model
                operation["parameters"] += self.query_from_model(model, path)
            return operation
        operation["responses"]["200"] = {
            "description": "Done",
            "content": _json({"type": "object"}),
        }
        return operation

    def path_parameters(
        self, path: str, handler: Any, submitted: list[str]
    ) -> list[dict[str, Any]]:
        """Each path parameter with the schema of the request field it fills (the
        pattern the server enforces on a uuid); a plain string when it fills none."""
        fields = getattr(handler, "path_fields", {})
        properties: dict[str, Any] = {}
        for api_name in reversed(submitted):
            model = self.operations.get(api_name).request_model
            self.model_ref(model)
            properties.update(self.schemas[model.__name__].get("properties", {}))
        parameters = []
        for name in re.findall(r"{(\w+)}", path):
            schema = properties.get(fields.get(name, name), {"type": "string"})
            if "$ref" in schema or "anyOf" in schema:  # optional fields: the string part
                schema = next(
                    (s for s in schema.get("anyOf", []) if s.get("type") == "string"),
                    {"type": "string"},
                )
            parameters.append(
                {"name": name, "in": "path", "required": True, "schema": copy.deepcopy(schema)}
            )
        return parameters

    def request_body(
        self, method: str, path: str, handler: Any, submitted: list[str]
    ) -> dict[str, Any] | None:
        if method == "DELETE":
            return None
        if path.endswith("/actions"):
            table = _action_table(handler, set(self.operations.operations)) or {
                _lower_camel(name): name for name in submitted
            }
            choices = [
                {
                    "type": "object",
                    "required": [action],
                    "properties": {
                        action: self.without_path_fields(
                            self.operations.get(api_name).request_model, path
                        )
                    },
                    "additionalProperties": False,
                }
                for action, api_name in sorted(table.items())
            ]
            schema: dict[str, Any] = choices[0] if len(choices) == 1 else {"oneOf": choices}
            return {"required": True, "content": _json(schema)}
        model = self.operations.get(submitted[0]).request_model
        envelope = {
            "type": "object",
            "required": ["params"],
            "properties": {
                "params": self.without_path_fields(model, path),
                "systemTags": {"type": "array", "items": {"type": "string"}},
                "userTags": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        }
        return {"required": True, "content": _json(envelope)}

    def query_from_model(self, model: type[BaseModel], path: str) -> list[dict[str, Any]]:
        schema = self.without_path_fields(model, path)
        return [
            {"name": name, "in": "query", "required": False, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
            if name not in ("systemTags", "userTags")
        ]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")


def build_spec(
    routes: Iterable[BaseRoute],
    operations: OperationRegistry,
    queryable: dict[str, QueryableResource],
    *,
    overrides: dict[tuple[str, str], dict[str, Any]] | None = None,
    exclude_modules: Iterable[str] = (),
    title: str = "volplane",
    version: str = "0.1.0",
) -> dict[str, Any]:
    """The OpenAPI document of every ``/v1`` route (also served under ``/zstack``)."""
    builder = SpecBuilder(operations, queryable)
    builder.schemas.update(copy.deepcopy(dialects.COMPONENTS))
    excluded = set(exclude_modules)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if isinstance(route, Mount) and route.path == "/v3":  # Cinder's
            for inner in route.routes:
                if not isinstance(inner, Route) or getattr(inner.endpoint, "public", False):
                    continue
                for method in sorted((inner.methods or set()) - {"HEAD"}):
                    full = route.path + inner.path
                    paths.setdefault(full, {})[method.lower()] = dialects.cinder_operation(
                        method, full, inner.endpoint
                    )
            continue
        if isinstance(route, Mount) and route.path in SHARE_PREFIXES:  # share-storage's
            for inner in route.routes:
                if not isinstance(inner, Route):
                    continue
                full = route.path + inner.path
                for method in sorted((inner.methods or set()) - {"HEAD"}):
                    paths.setdefault(full, {})[method.lower()] = dialects.share_operation(
                        method, full, inner.endpoint, builder.schemas
                    )
            continue
        if not isinstance(route, Route) or not route.path.startswith("/v1/"):
            continue
        if route.endpoint.__module__ in excluded:
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            override = (overrides or {}).get((method, route.path))
            if override is not None and override.get("exclude"):
                continue
            operation = builder.operation(method, route.path, route.endpoint)
            if override is not None:
                extra = copy.deepcopy(override)
                operation["responses"].update(extra.pop("responses", {}))
                operation.update(extra)
            paths.setdefault(route.path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "volplane's three dialects. ZStack (`/v1/...`, every path also "
            'served under `/zstack`): errors are `{"error": {code, description, details}}`. '
            "share-storage (`/v1/pool/share`, `/v1/volume/share`, `/v1/cluster`): every "
            "answer is the `{scode, desc, message, message_cn, stack, data}` envelope. "
            "Cinder (`/v3/{project_id}/...`, `X-Auth-Token`): errors are Cinder faults.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": builder.schemas,
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`OAuth <session uuid>` from `PUT /v1/accounts/login`.",
                },
                **dialects.SECURITY_SCHEMES,
            },
        },
        "security": [{"session": []}],
    }
