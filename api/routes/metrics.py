"""``GET /metrics``: Prometheus text format (see ``api.metrics``). Unauthenticated, as
scrapers expect; it shows counts, never names or payloads."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import public
from api.metrics import CONTENT_TYPE, render
from volplane.runtime import Runtime
from volplane.store.observe import Stats


@public
async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    page = await run_in_threadpool(render, Stats(runtime.sessions))
    return Response(page, media_type=CONTENT_TYPE)


ROUTES = [Route("/metrics", metrics, methods=["GET"])]
