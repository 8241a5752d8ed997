"""``GET /console``: the operator page (live job queue, hosts and pools, cancel and
redeliver). Plain HTML and JavaScript from ``api/static``; it logs in and calls the API
like any client, so it needs no permission of its own."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from api.auth import public

STATIC = Path(__file__).resolve().parent.parent / "static"


@public
async def console(request: Request) -> Response:
    return FileResponse(STATIC / "console.html", media_type="text/html")


@public
async def console_script(request: Request) -> Response:
    return FileResponse(STATIC / "sha512.js", media_type="text/javascript")


ROUTES = [
    Route("/console", console, methods=["GET"]),
    Route("/console/sha512.js", console_script, methods=["GET"]),
]
