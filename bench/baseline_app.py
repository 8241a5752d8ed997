"""The baseline: bare Starlette endpoints doing only HTTP and JSON, no work."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def accept(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"location": "http://x/v1/api-jobs/0", "echo": len(body)}, status_code=202)


async def poll(request: Request) -> JSONResponse:
    return JSONResponse({"inventory": {"uuid": request.path_params["uuid"], "name": "zone"}})


app = Starlette(
    routes=[
        Route("/v1/zones", accept, methods=["POST"]),
        Route("/v1/api-jobs/{uuid}", poll, methods=["GET"]),
    ]
)
