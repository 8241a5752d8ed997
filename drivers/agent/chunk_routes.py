"""The agent's chunk-store routes: another agent backs up into or restores from a chunk
store on this host (``drivers.chunkstore.HttpChunkStore`` is the other side).

A request carries no agent token but a ticket (``schemas.agent.chunk_store_ticket``)
for one store root, one mode (``r`` or ``rw``) and an expiry, made by a worker that
knows this agent's token.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import zstandard
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from drivers.agent.pools import ConnectedPools
from drivers.chunkstore import LocalChunkStore, check_digest, check_uuid
from schemas.agent import CHUNK_STORE_PATH, chunk_store_ticket
from volplane.chunking import Manifest
from volplane.errors import (
    AgentAuthFailed,
    IntegrityError,
    InvalidParameter,
    ResourceNotFound,
)

MAX_FRAME = 80 << 20  # a 64 MiB chunk that did not compress, plus zstd's overhead


class _Refused(Exception):
    pass


def chunk_store_routes(token: str, pools: ConnectedPools) -> list[Route]:
    stores: dict[Path, LocalChunkStore] = {}

    def store_for(request: Request, *, write: bool) -> LocalChunkStore:
        params = request.query_params
        root, mode, ticket = (
            params.get("root", ""),
            params.get("mode", ""),
            params.get("ticket", ""),
        )
        try:
            expires = int(params.get("expires", ""))
        except ValueError as exc:
            raise InvalidParameter("expires must be unix seconds") from exc
        expected = chunk_store_ticket(token, root, expires, mode)
        if (
            expires < time.time()
            or mode not in ("r", "rw")
            or (write and mode != "rw")
            or not hmac.compare_digest(ticket.encode(), expected.encode())
        ):
            raise _Refused()
        resolved = pools.connected_root(root)
        if resolved not in stores:
            # Backups on other hosts: their pins live by heartbeat, not held here.
            stores[resolved] = LocalChunkStore(resolved, owner="")
        return stores[resolved]

    def refused() -> Response:
        error = AgentAuthFailed("missing, wrong or expired chunk-store ticket")
        return JSONResponse(error.to_body(), status_code=401)

    def absent(what: str) -> Response:
        return JSONResponse(ResourceNotFound(f"{what} is not stored").to_body(), status_code=404)

    async def get_chunk(request: Request) -> Response:
        try:
            store = store_for(request, write=False)
        except _Refused:
            return refused()
        digest = check_digest(request.path_params["digest"])
        path = store.chunk_path(digest)
        try:
            frame = await run_in_threadpool(path.read_bytes)
        except FileNotFoundError:
            return absent(f"chunk {digest}")
        return Response(frame, media_type="application/zstd")

    async def keep_chunk(request: Request) -> Response:
        try:
            store = store_for(request, write=True)
        except _Refused:
            return refused()
        digest = check_digest(request.path_params["digest"])
        if not await run_in_threadpool(store.keep_if_present, digest):
            return absent(f"chunk {digest}")
        return Response(status_code=204)

    async def put_chunk(request: Request) -> Response:
        try:
            store = store_for(request, write=True)
        except _Refused:
            return refused()
        digest = check_digest(request.path_params["digest"])
        frame = await request.body()
        if len(frame) > MAX_FRAME:
            raise InvalidParameter(f"chunk frame of {len(frame)} bytes is too large")

        def verify_and_put() -> None:
            # A damaged upload must never enter the store under a name it does not match.
            try:
                data = zstandard.ZstdDecompressor().decompress(frame, max_output_size=MAX_FRAME)
            except zstandard.ZstdError as exc:
                raise IntegrityError(f"chunk {digest} is not a zstd frame: {exc}") from exc
            if hashlib.sha256(data).hexdigest() != digest:
                raise IntegrityError(f"chunk uploaded as {digest} does not match its checksum")
            store.put(digest, frame)

        await run_in_threadpool(verify_and_put)
        return Response(status_code=204)

    async def get_manifest(request: Request) -> Response:
        try:
            store = store_for(request, write=False)
        except _Refused:
            return refused()
        uuid = check_uuid(request.path_params["uuid"])
        try:
            raw = await run_in_threadpool(store.manifest_path(uuid).read_bytes)
        except FileNotFoundError:
            return absent(f"manifest {uuid}")
        return Response(raw, media_type="application/json")

    async def put_manifest(request: Request) -> Response:
        try:
            store = store_for(request, write=True)
        except _Refused:
            return refused()
        uuid = check_uuid(request.path_params["uuid"])
        try:
            manifest = Manifest.from_json(await request.body())
        except ValueError as exc:
            raise InvalidParameter(str(exc)) from exc
        if manifest.backup_uuid != uuid:
            raise InvalidParameter(f"manifest of {manifest.backup_uuid} sent as {uuid}")
        await run_in_threadpool(store.write_manifest, manifest)
        return Response(status_code=204)

    async def pin(request: Request) -> Response:
        try:
            store = store_for(request, write=True)
        except _Refused:
            return refused()
        uuid = check_uuid(request.path_params["uuid"])
        if request.method == "PUT":
            await run_in_threadpool(store.pin, uuid)
        else:
            await run_in_threadpool(store.unpin, uuid)
        return Response(status_code=204)

    async def renew_pin(request: Request) -> Response:
        try:
            store = store_for(request, write=True)
        except _Refused:
            return refused()
        uuid = check_uuid(request.path_params["uuid"])
        try:
            await run_in_threadpool(store.renew_pin, uuid)
        except IntegrityError:
            return absent(f"pin {uuid}")
        return Response(status_code=204)

    prefix = CHUNK_STORE_PATH
    return [
        Route(f"{prefix}/chunks/{{digest}}", get_chunk, methods=["GET"]),
        Route(f"{prefix}/chunks/{{digest}}", put_chunk, methods=["PUT"]),
        Route(f"{prefix}/chunks/{{digest}}/keep", keep_chunk, methods=["POST"]),
        Route(f"{prefix}/manifests/{{uuid}}", get_manifest, methods=["GET"]),
        Route(f"{prefix}/manifests/{{uuid}}", put_manifest, methods=["PUT"]),
        Route(f"{prefix}/pins/{{uuid}}", pin, methods=["PUT", "DELETE"]),
        Route(f"{prefix}/pins/{{uuid}}/renew", renew_pin, methods=["POST"]),
    ]
