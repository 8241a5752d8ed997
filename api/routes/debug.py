"""``POST /v1/debug/sleep``: a slow job for reliability tests.

Mounted only when ``enable_test_operations`` is set; production never has it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import create_params, read_json
from api.submit import submit
from schemas.tables import new_uuid
from volplane.catalog.debug import DEBUG_SLEEP


async def debug_sleep(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    params = create_params(body, path=request.path_params)
    key = params.pop("syncOn", None) or new_uuid()
    return await submit(request, caller, DEBUG_SLEEP, params, resource_uuid=key, raw_body=body)


ROUTES = [Route("/v1/debug/sleep", debug_sleep, methods=["POST"])]
