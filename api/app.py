"""The gateway: ``create_app(settings)`` builds the Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.routing import BaseRoute

from api.admission import AdmissionBatcher
from api.errors import EXCEPTION_HANDLERS
from api.routes import (
    accounts,
    backup_storage,
    backups,
    cinder,
    clusters,
    console,
    debug,
    disk_offerings,
    events,
    global_configs,
    hosts,
    jobs,
    local_storage,
    manageable,
    metrics,
    openapi,
    primary_storage,
    root,
    share_cluster,
    share_pools,
    share_volumes,
    snapshots,
    volumes,
    zones,
)
from api.routing import IndexedRouter
from api.share.app import share_mounts
from drivers.client import AgentClients
from volplane.broker import make_broker
from volplane.catalog import operations
from volplane.runtime import Runtime
from volplane.settings import Settings
from volplane.store.pg_job_ends import JobEndListener


def api_routes(settings: Settings, state: State | None = None) -> list[BaseRoute]:
    """Every route, in matching order: the first full match wins. The share-storage and
    Cinder dialects are apps of their own (their own error handlers), sharing ``state``."""
    state = state if state is not None else State()
    test_only = debug.ROUTES if settings.enable_test_operations else []
    return [
        *accounts.ROUTES,
        *backup_storage.ROUTES,
        *backups.ROUTES,
        *cinder.routes(state),
        *clusters.ROUTES,
        *console.ROUTES,
        *disk_offerings.ROUTES,
        *global_configs.ROUTES,
        *test_only,
        # ``/v1/api-jobs/events`` before ``/v1/api-jobs/{uuid}``.
        *events.ROUTES,
        *jobs.ROUTES,
        *hosts.ROUTES,
        # ``/v1/primary-storage/local-storage/...`` before ``/v1/primary-storage/{kind}``.
        *local_storage.ROUTES,
        *manageable.ROUTES,
        *metrics.ROUTES,
        *openapi.ROUTES,
        *primary_storage.ROUTES,
        *root.ROUTES,
        *share_mounts([*share_cluster.ROUTES, *share_pools.ROUTES, *share_volumes.ROUTES], state),
        *snapshots.ROUTES,
        *volumes.ROUTES,
        *zones.ROUTES,
    ]


def create_app(settings: Settings) -> Starlette:
    runtime = Runtime(settings, make_broker(settings))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if job_ends is not None:
            await job_ends.close()
        await admission.close()
        runtime.engine.dispose()

    admission = AdmissionBatcher(runtime)
    database_url = settings.resolved_database_url()
    job_ends = JobEndListener(database_url) if database_url.startswith("postgresql") else None
    app = Starlette(exception_handlers=EXCEPTION_HANDLERS)
    app.router = IndexedRouter(api_routes(settings, app.state), lifespan=lifespan)
    app.state.runtime = runtime
    app.state.operations = operations(settings)
    app.state.agents = AgentClients()
    app.state.admission = admission
    app.state.job_ends = job_ends
    return app
