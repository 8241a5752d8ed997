"""The share-storage and Cinder dialects in ``/openapi.json``, from the declarations
that validate their requests.

- share-storage: each handler reads its request with ``read_request(request, <model>)``;
  that pydantic model (``api.share.requests``) is the body of a ``POST`` and the query
  of a ``GET``, and every answer is the dialect's envelope.
- Cinder: the manage body from ``api.cinder.wire``'s own tables of allowed and string
  fields, the listing query from its sort keys and limits, answers in Cinder's fault
  shape.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from api.cinder import wire
from api.share import requests as share_requests

SHARE_TAG = "share-storage"
CINDER_TAG = "cinder"
SHARE_STATUSES = ("400", "401", "403", "404", "409", "422", "503")
CINDER_STATUSES = ("400", "401", "403", "404", "406", "409", "503")

COMPONENTS: dict[str, Any] = {
    "ShareEnvelope": {
        "type": "object",
        "required": ["scode", "message", "data"],
        "properties": {
            "scode": {"type": "integer"},
            "desc": {"type": "string"},
            "message": {"type": "string"},
            "message_cn": {"type": "string"},
            "stack": {},
            "data": {},
        },
    },
    "CinderFault": {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        },
    },
}
SECURITY_SCHEMES = {
    "cinderToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "The session uuid, as Cinder's Keystone token (the Cinder dialect).",
    }
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _code_names(code: Any) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _code_names(const)


def share_model(handler: Any) -> type[share_requests.ShareRequest] | None:
    """The ``api.share.requests`` model a share handler reads its request as."""
    code = getattr(inspect.unwrap(handler), "__code__", None)
    for name in _code_names(code) if code is not None else ():
        found = getattr(share_requests, name, None)
        if (
            inspect.isclass(found)
            and issubclass(found, share_requests.ShareRequest)
            and found is not share_requests.ShareRequest
        ):
            return found
    return None


def _model_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    return schema


def share_operation(
    method: str, path: str, handler: Any, schemas: dict[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_share_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
        "tags": [SHARE_TAG],
        "parameters": [],
        "responses": {
            "200": {
                "description": "The envelope, `scode` 0",
                "content": _json(_ref("ShareEnvelope")),
            },
            **{
                status: {
                    "description": "The envelope, a non-zero `scode`",
                    "content": _json(_ref("ShareEnvelope")),
                }
                for status in SHARE_STATUSES
            },
        },
    }
    summary = (inspect.unwrap(handler).__doc__ or "").strip().splitlines()[0:1]
    if summary:
        operation["summary"] = summary[0]
    model = share_model(handler)
    if model is None:
        return operation
    schema = _model_schema(model, schemas)
    if method == "GET":
        required = set(schema.get("required", []))
        operation["parameters"] = [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
        ]
    else:
        operation["requestBody"] = {"required": True, "content": _json(schema)}
    return operation


def cinder_manage_schema() -> dict[str, Any]:
    """``{"volume": {...}}`` as ``wire.parse_manage`` accepts it (at the newest version)."""
    strings = set(wire.STRING_OR_NULL_FIELDS)
    properties: dict[str, Any] = {}
    for key in sorted(wire.MANAGE_KEYS | {"cluster"}):
        if key in strings:
            properties[key] = {"type": ["string", "null"], "maxLength": 255}
        else:
            properties[key] = {}
    properties["description"] = {"type": ["string", "null"]}
    properties["bootable"] = {"type": ["boolean", "string", "null"]}
    properties["metadata"] = {
        "type": ["object", "null"],
        "additionalProperties": {"type": "string"},
    }
    properties["ref"] = {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "properties": {"source-name": {"type": "string"}, "source-id": {"type": "string"}},
            },
        ]
    }
    volume = {
        "type": "object",
        "required": ["ref"],
        "properties": properties,
        "additionalProperties": False,
        "description": "Exactly one of `host` and `cluster`.",
    }
    return {
        "type": "object",
        "required": ["volume"],
        "properties": {"volume": volume},
        "additionalProperties": False,
    }


def _cinder_listing_parameters() -> list[dict[str, Any]]:
    sort_keys = "|".join(wire.SORT_KEYS)
    return [
        {"name": "host", "in": "query", "schema": {"type": "string"}},
        {"name": "cluster", "in": "query", "schema": {"type": "string"}},
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string", "pattern": rf"^(({sort_keys})(:(asc|desc))?,?)*$"},
        },
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": wire.MAX_LIMIT},
        },
        {"name": "marker", "in": "query", "schema": {"type": "string"}},
    ]


def cinder_operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    minimum = wire.format_version(wire.MANAGEABLE_VERSION)
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_cinder_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
        "tags": [CINDER_TAG],
        "security": [{"cinderToken": []}],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)
        ]
        + [
            {
                "name": "OpenStack-API-Version",
                "in": "header",
                "schema": {"type": "string", "example": f"volume {minimum}"},
            }
        ],
        "responses": {
            status: {"description": "A Cinder fault", "content": _json(_ref("CinderFault"))}
            for status in CINDER_STATUSES
        },
    }
    summary = (handler.__doc__ or "").strip().splitlines()[0:1]
    if summary:
        operation["summary"] = summary[0]
    ok = "202" if method == "POST" else "200"
    operation["responses"][ok] = {"description": "Done", "content": _json({"type": "object"})}
    if method == "GET" and ("/manageable_volumes" in path or "/os-volume-manage" in path):
        operation["parameters"] += _cinder_listing_parameters()
    if method == "POST" and path.endswith(("/manageable_volumes", "/os-volume-manage")):
        operation["requestBody"] = {"required": True, "content": _json(cinder_manage_schema())}
    if method == "POST" and path.endswith("/action"):
        operation["requestBody"] = {
            "required": True,
            "content": _json(
                {
                    "type": "object",
                    "required": ["os-unmanage"],
                    "properties": {"os-unmanage": {"type": ["object", "null"]}},
                }
            ),
        }
    return operation
