"""``/v1/api-jobs``: polling, long-polling, listing, cancelling, redelivering."""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import action_params, read_json
from api.job_service import cancel_job, redeliver_webhook
from api.listing import list_collection
from api.query import QueryableResource
from api.resources import B, D, I, S, fields
from api.submit import job_location
from schemas.inventories import job_inventory
from schemas.tables import ApiJob, utcnow
from volplane.errors import InvalidParameter, JobNotFound
from volplane.jobs import JobState, final_body, is_expired, poll_status
from volplane.runtime import Runtime
from volplane.store.accounts import Caller
from volplane.store.pg_job_ends import JobEndListener
from volplane.tenancy import may_see

RECHECK_SECONDS = 1.0


def _visible_job(runtime: Runtime, caller: Caller, job_uuid: str) -> ApiJob:
    return _check_visible(runtime, caller, job_uuid, runtime.jobs.get(job_uuid))


def _check_visible(runtime: Runtime, caller: Caller, job_uuid: str, job: ApiJob | None) -> ApiJob:
    """The job if the caller may see it: its own (or admin), and not expired."""
    if (
        job is None
        or not may_see(job, caller)
        or is_expired(job.finish_date, utcnow(), runtime.settings.job_retention_seconds)
    ):
        raise JobNotFound(f"job {job_uuid} does not exist or has expired")
    return job


def _wait_seconds(request: Request, limit: int) -> float:
    raw = request.query_params.get("waitSeconds")
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter("waitSeconds must be a number") from None
    if not 0 <= value <= limit:
        raise InvalidParameter(f"waitSeconds must be between 0 and {limit}")
    return value


async def poll_job(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    ends: JobEndListener | None = request.app.state.job_ends
    caller = await authenticate(request)
    job_uuid = request.path_params["uuid"]
    wait = _wait_seconds(request, runtime.settings.long_poll_max_seconds)
    deadline = time.monotonic() + wait
    delay = 0.01
    with ends.watch(job_uuid) if ends and wait else contextlib.nullcontext() as ended:
        while True:
            if ended is not None:
                ended.clear()  # a wake from now on is kept for the wait below
            job = await _read_job(runtime, caller, job_uuid)
            state = JobState(job.state)
            left = deadline - time.monotonic()
            if state.is_final or left <= 0:
                break
            if ended is not None and ends is not None and ends.listening:
                # Woken by the end itself; the re-read now and then is only a safety net.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ended.wait(), min(left, RECHECK_SECONDS))
                continue
            # No notices (SQLite, or the listener is reconnecting): poll fast at first
            # (most jobs end within milliseconds), then every 50 ms.
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 1.5, 0.05)
    if state.is_final:
        return JSONResponse(
            final_body(state, job.result, job.error), status_code=poll_status(state)
        )
    return JSONResponse(
        {
            "location": job_location(job.base_url, job.uuid),
            "state": state.value,
            "progress": job.progress,
        },
        status_code=202,
        headers={"Retry-After": "1", "X-Job-UUID": job.uuid},
    )


async def _read_job(runtime: Runtime, caller: Caller, job_uuid: str) -> ApiJob:
    cached = runtime.jobs.cached_finished(job_uuid)
    if cached is not None:
        return _check_visible(runtime, caller, job_uuid, cached)
    return await run_in_threadpool(_poll_fetch, runtime, caller, job_uuid)


def _poll_fetch(runtime: Runtime, caller: Caller, job_uuid: str) -> ApiJob:
    return _check_visible(runtime, caller, job_uuid, runtime.jobs.get_for_poll(job_uuid))


async def list_jobs(request: Request) -> Response:
    return await list_collection(request, "apiJob")


async def job_actions(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    body = await read_json(request)
    action, _ = action_params(body, {"cancelApiJob", "redeliverWebhook"}, path=request.path_params)
    job = await run_in_threadpool(_visible_job, runtime, caller, request.path_params["uuid"])
    if action == "cancelApiJob":
        job = await cancel_job(runtime, job)
    else:
        await redeliver_webhook(runtime, job)
    deliveries = await run_in_threadpool(runtime.jobs.deliveries, job.uuid)
    fresh = await run_in_threadpool(runtime.jobs.get, job.uuid)
    assert fresh is not None
    return JSONResponse({"inventory": job_inventory(fresh, deliveries)})


async def get_job(request: Request) -> Response:
    """``GET /v1/api-jobs/{uuid}/inventory``: the job record itself, not its result."""
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    job = await run_in_threadpool(_visible_job, runtime, caller, request.path_params["uuid"])
    deliveries = await run_in_threadpool(runtime.jobs.deliveries, job.uuid)
    return JSONResponse({"inventories": [job_inventory(job, deliveries)]})


ROUTES = [
    Route("/v1/api-jobs", list_jobs, methods=["GET"]),
    Route("/v1/api-jobs/{uuid}", poll_job, methods=["GET"]),
    Route("/v1/api-jobs/{uuid}/inventory", get_job, methods=["GET"]),
    Route("/v1/api-jobs/{uuid}/actions", job_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="apiJob",
            model=ApiJob,
            fields=fields(
                ("uuid", ApiJob.uuid, S),
                ("apiName", ApiJob.api_name, S),
                ("state", ApiJob.state, S),
                ("progress", ApiJob.progress, I),
                ("resourceType", ApiJob.resource_type, S),
                ("resourceUuid", ApiJob.resource_uuid, S),
                ("accountUuid", ApiJob.account_uuid, S),
                ("attempts", ApiJob.attempts, I),
                ("createDate", ApiJob.create_date, D),
                ("startDate", ApiJob.start_date, D),
                ("finishDate", ApiJob.finish_date, D),
                ("webhookState", ApiJob.webhook_state, S),
                ("cancelRequested", ApiJob.cancel_requested, B),
            ),
        ),
        job_inventory,
    )
]
