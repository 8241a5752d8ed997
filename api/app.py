"""The gateway: ``create_app(settings)`` builds the Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from api.admission import AdmissionBatcher
from api.errors import EXCEPTION_HANDLERS
from api.routing import IndexedRouter
from volplane.discovery import modules_of
from volplane.runtime import Runtime
from volplane.settings import Settings
from volplane.store.pg_job_ends import JobEndListener
from workers.celery_app import make_celery

TEST_ONLY_ROUTES = {"api.routes.debug"}


def api_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for module in modules_of("api.routes"):
        if module.__name__ in TEST_ONLY_ROUTES and not settings.enable_test_operations:
            continue
        routes += getattr(module, "ROUTES", [])
    return routes


def create_app(settings: Settings) -> Starlette:
    celery = make_celery(settings)
    runtime: Runtime = celery.volplane_runtime

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
    app.router = IndexedRouter(api_routes(settings), lifespan=lifespan)
    app.state.runtime = runtime
    app.state.admission = admission
    app.state.job_ends = job_ends
    return app
