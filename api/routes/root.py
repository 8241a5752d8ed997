"""``GET /``: a browser is led to the console and the API docs; any other client gets
Cinder's version document (``300 Multiple Choices``), which Cinder clients read first.
``GET /v3`` and ``/v3/`` answer the v3 document (``api/cinder/versions.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from api.auth import public
from api.cinder.routes import v3_root
from api.cinder.versions import versions_document
from api.submit import base_url

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>volplane</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3em">
<h1>volplane</h1>
<ul>
<li><a href="/console">Operator console</a></li>
<li><a href="/docs">API reference</a> (<a href="/openapi.json">openapi.json</a>)</li>
<li><a href="/metrics">Prometheus metrics</a></li>
</ul>
</body></html>
"""


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


@public
async def root(request: Request) -> Response:
    if _wants_html(request):
        return HTMLResponse(LANDING)
    root_url = base_url(request, request.app.state.runtime)
    return JSONResponse(versions_document(root_url), status_code=300)


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/v3", v3_root, methods=["GET"]),
]
