"""Adopting existing images, ZStack dialect (CONTRACT §5 manageable volumes).

``GET /v1/primary-storage/{ps}/manageable-volumes`` is synchronous: the gateway asks
the pool's agent. ``POST /v1/volumes/data/manage`` is a job (ManageVolume); the
``unmanageVolume`` action is dispatched by ``api/routes/volumes.py`` (UnmanageVolume).
All are admin-only, as Cinder's default policy has them.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate, require_admin
from api.handlers import create_endpoint
from api.manageable import PoolListing, list_manageable
from schemas.storage_inventories import manageable_inventory
from volplane.catalog.manage import MANAGE_VOLUME
from volplane.runtime import Runtime


async def pool_listing(request: Request, pool_uuid: str) -> PoolListing:
    """The pool's images as its agent judges them (blocking work in a thread)."""
    runtime: Runtime = request.app.state.runtime

    def ask() -> PoolListing:
        with runtime.sessions() as session:
            return list_manageable(session, request.app.state.agents, pool_uuid)

    return await run_in_threadpool(ask)


async def manageable_volumes(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller, "list manageable volumes")
    listing = await pool_listing(request, request.path_params["uuid"])
    inventories: list[dict[str, Any]] = [
        manageable_inventory(image, listing.pool) for image in listing.images
    ]
    return JSONResponse({"inventories": inventories, "total": len(inventories)})


manage_volume = create_endpoint(MANAGE_VOLUME, name="manage_volume")


ROUTES = [
    Route("/v1/primary-storage/{uuid}/manageable-volumes", manageable_volumes, methods=["GET"]),
    Route("/v1/volumes/data/manage", manage_volume, methods=["POST"]),
]
