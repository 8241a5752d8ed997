"""``GET /openapi.json`` (the ZStack-dialect API described, see ``api.openapi``) and
``GET /docs`` (a self-contained page rendering it; no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.auth import public
from api.openapi import build_spec
from api.query.declarations import QueryableResource
from api.resources import query_registry

STATIC = Path(__file__).resolve().parent.parent / "static"
# Test-only routes are not part of the API; pages and metrics are not ZStack calls;
# the share-storage dialect is described in docs/share-api.md.
EXCLUDED_MODULES = ("api.routes.debug",)


def _error_ref() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


_EVENT_STREAM = {
    "200": {
        "description": "Server-Sent Events: `state`, `progress`, then `end` (one job).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}

OPENAPI: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/v1/accounts/login"): {
        "summary": "Log in (password as sha512 hex)",
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            key: {
                                "type": "object",
                                "required": ["accountName", "password"],
                                "properties": {
                                    "accountName": {"type": "string", "minLength": 1},
                                    "password": {"type": "string", "minLength": 1},
                                },
                            }
                            for key in ("logInByAccount", "loginByAccount")
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "The session",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["inventory"],
                            "properties": {
                                "inventory": {
                                    "type": "object",
                                    "required": ["uuid", "accountUuid", "expiredDate"],
                                    "properties": {
                                        "uuid": {"type": "string"},
                                        "accountUuid": {"type": "string"},
                                        "userUuid": {"type": "string"},
                                        "expiredDate": {"type": "string"},
                                        "createDate": {"type": "string"},
                                    },
                                }
                            },
                        }
                    }
                },
            }
        },
    },
    ("DELETE", "/v1/accounts/sessions/{uuid}"): {"summary": "Log out"},
    ("GET", "/v1/api-jobs/{uuid}"): {
        "summary": "Poll a job (long-poll with waitSeconds)",
        "parameters": [
            {"name": "uuid", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "waitSeconds",
                "in": "query",
                "schema": {"type": "number", "minimum": 0, "maximum": 60},
            },
        ],
        "responses": {
            "200": {
                "description": "Succeeded: the result",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "202": {
                "description": "Pending or Running",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/JobInProgress"}}
                },
            },
            "503": {"description": "Failed or Cancelled", "content": _error_ref()},
        },
    },
    ("GET", "/v1/api-jobs/{uuid}/events"): {
        "summary": "Live events of one job (SSE, resumable with Last-Event-ID)",
        "responses": _EVENT_STREAM,
        "x-stream": True,
    },
    ("GET", "/v1/api-jobs/events"): {
        "summary": "Live events of every visible job (SSE)",
        "responses": _EVENT_STREAM,
        "x-stream": True,
    },
}


def _queryable() -> dict[str, QueryableResource]:
    return {resource.name: resource for resource in query_registry()}


def _accounts_create() -> dict[str, Any]:
    from schemas.requests import CreateAccountParams

    params = CreateAccountParams.model_json_schema()
    params.pop("$defs", None)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["params"],
                        "properties": {"params": params},
                    }
                }
            },
        }
    }


def spec_for(request: Request) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(request.app.state, "openapi", None)
    if cached is None:
        overrides = dict(OPENAPI)
        overrides[("POST", "/v1/accounts")] = {
            **overrides.get(("POST", "/v1/accounts"), {}),
            **_accounts_create(),
        }
        cached = build_spec(
            request.app.routes,
            request.app.state.operations,
            _queryable(),
            overrides=overrides,
            exclude_modules=EXCLUDED_MODULES,
        )
        request.app.state.openapi = cached
    return cached


@public
async def openapi_json(request: Request) -> Response:
    return JSONResponse(spec_for(request))


@public
async def docs(request: Request) -> Response:
    return FileResponse(STATIC / "docs.html", media_type="text/html")


ROUTES = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
]
