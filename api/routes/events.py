"""Live job events as Server-Sent Events (CONTRACT §2.5).

``GET /v1/api-jobs/{uuid}/events`` streams one job's state and progress changes until it
ends, then an ``end`` event. Each event's ``id`` is the job's version
``<attempts>.<phase>.<progress>``, which only grows; a client reconnecting with
``Last-Event-ID`` gets what changed after that version. A watcher that saw a job
``Pending`` and next finds it ended is also told that it ran (``Running``), so every
state change arrives, in order, however fast the job was.

``GET /v1/api-jobs/events`` streams every job visible to the caller (admins: all; a tenant:
its own): the unfinished ones when it starts, then each change. Its ids are times (epoch
milliseconds); ``Last-Event-ID`` replays the jobs that ended since.

Both watch the job table a few times a second (one indexed SELECT each time), so they work
across any number of gateways and workers without a broker of their own. A client that
goes away cancels its stream (Starlette listens for the disconnect).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from api.auth import authenticate
from api.routes.jobs import _visible_job
from schemas.inventories import iso
from schemas.tables import utcnow
from volplane.jobs import JobState
from volplane.runtime import Runtime
from volplane.store.observe import JobSnapshot, JobWatch

POLL_SECONDS = 0.15
ALL_JOBS_POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
# Streams are closed after this long; EventSource-style clients reconnect with
# Last-Event-ID and lose nothing. It keeps gateways restartable.
MAX_STREAM_SECONDS = 300.0
# How far back the all-jobs stream looks for jobs that ended, covering clock skew
# between the machines that write jobs and the gateway that reads them.
SKEW = timedelta(seconds=2)
END_EVENT = "end"

Version = tuple[int, int, int]

_PENDING, _RUNNING, _ENDED, _REQUEUED = 0, 1, 2, 3


def version_of(job: JobSnapshot) -> Version:
    """A key that grows with every change: (runs started, phase, progress).

    A job re-queued after its worker died is ``Pending`` again but later than its
    earlier run, hence its own phase.
    """
    state = JobState(job.state)
    if state.is_final:
        phase = _ENDED
    elif state is JobState.RUNNING:
        phase = _RUNNING
    else:
        phase = _REQUEUED if job.attempts > 0 else _PENDING
    return (job.attempts, phase, -1 if job.progress is None else job.progress)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def parse_version(raw: str | None) -> Version | None:
    if not raw:
        return None
    try:
        attempts, phase, progress = (int(part) for part in raw.split("."))
    except ValueError:
        return None
    return (attempts, phase, progress)


def event_data(job: JobSnapshot) -> dict[str, Any]:
    return {
        "uuid": job.uuid,
        "apiName": job.api_name,
        "state": job.state,
        "progress": job.progress,
        "resourceType": job.resource_type,
        "resourceUuid": job.resource_uuid,
        "accountUuid": job.account_uuid,
        "createDate": iso(job.create_date),
        "startDate": iso(job.start_date),
        "finishDate": iso(job.finish_date),
        "error": job.error.get("error") if job.error else None,
        "cancelRequested": job.cancel_requested,
        "finished": JobState(job.state).is_final,
    }


def changes(
    last: Version | None, last_state: str | None, job: JobSnapshot
) -> list[tuple[str, Version, JobSnapshot]]:
    """The events that take a watcher from ``last`` to ``job``: (type, version, job).

    Pure: the stream calls it with each fresh snapshot.
    """
    current = version_of(job)
    if last is not None and current <= last:
        return []
    out: list[tuple[str, Version, JobSnapshot]] = []
    ran_unseen = (
        last is not None
        and JobState(job.state).is_final
        and job.start_date is not None
        and (last[0] < job.attempts or last[1] in (_PENDING, _REQUEUED))
    )
    if ran_unseen:
        running = replace(
            job,
            state=JobState.RUNNING.value,
            progress=None,
            finish_date=None,
            error=None,
        )
        out.append(("state", (job.attempts, _RUNNING, -1), running))
        last_state = JobState.RUNNING.value
    kind = "progress" if job.state == last_state else "state"
    out.append((kind, current, job))
    return out


def sse(event: str, data: Any, event_id: str | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'), default=str)}")
    return "\n".join(lines) + "\n\n"


def _stream(body: AsyncIterator[str]) -> Response:
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def job_events(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    # Visibility (tenant, retention) is checked once, before the stream starts: a 404
    # is an ordinary error body, not an empty stream.
    job = await run_in_threadpool(_visible_job, runtime, caller, request.path_params["uuid"])
    watch = JobWatch(runtime.sessions)
    resume = parse_version(request.headers.get("last-event-id"))

    async def body() -> AsyncIterator[str]:
        last, last_state = resume, _state_of(resume)
        started = quiet_since = time.monotonic()
        yield "retry: 1000\n\n"
        while True:
            snapshot = await run_in_threadpool(watch.snapshot, job.uuid)
            if snapshot is None:  # expired and removed while watched
                yield sse(END_EVENT, {"uuid": job.uuid, "state": None})
                return
            for kind, version, seen in changes(last, last_state, snapshot):
                yield sse(kind, event_data(seen), format_version(version))
                last, last_state = version, seen.state
                quiet_since = time.monotonic()
            if JobState(snapshot.state).is_final:
                yield sse(END_EVENT, {"uuid": job.uuid, "state": snapshot.state})
                return
            if time.monotonic() - started > MAX_STREAM_SECONDS:
                return
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keepalive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return _stream(body())


def _state_of(version: Version | None) -> str | None:
    if version is None:
        return None
    return {_PENDING: "Pending", _REQUEUED: "Pending", _RUNNING: "Running"}.get(version[1])


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _parse_epoch_ms(raw: str | None) -> datetime | None:
    if not raw or not raw.isdigit():
        return None
    return datetime.fromtimestamp(int(raw) / 1000, UTC)


async def all_job_events(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    watch = JobWatch(runtime.sessions)
    resumed_from = _parse_epoch_ms(request.headers.get("last-event-id"))

    async def body() -> AsyncIterator[str]:
        seen: dict[str, tuple[Version, str]] = {}
        # A fresh watcher starts from the jobs still in flight; a resuming one also
        # hears about those that ended while it was away.
        since = (resumed_from or utcnow()) - SKEW
        first = resumed_from is None
        started = quiet_since = time.monotonic()
        yield "retry: 1000\n\n"
        while True:
            polled_at = utcnow()
            jobs = await run_in_threadpool(
                watch.active_and_recent, finished_since=since, actor=caller
            )
            stamp = str(_epoch_ms(polled_at))
            for snapshot in jobs:
                if first and JobState(snapshot.state).is_final:
                    seen[snapshot.uuid] = (version_of(snapshot), snapshot.state)
                    continue
                last, last_state = seen.get(snapshot.uuid, (None, None))
                for kind, version, job in changes(last, last_state, snapshot):
                    yield sse(kind, event_data(job), stamp)
                    seen[snapshot.uuid] = (version, job.state)
                    quiet_since = time.monotonic()
            first = False
            since = polled_at - SKEW
            # Forget jobs that ended before the window: they will not be selected again.
            present = {snapshot.uuid for snapshot in jobs}
            for uuid in [uuid for uuid in seen if uuid not in present]:
                del seen[uuid]
            if time.monotonic() - started > MAX_STREAM_SECONDS:
                return
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keepalive\n\n"
            await asyncio.sleep(ALL_JOBS_POLL_SECONDS)

    return _stream(body())


# ``/v1/api-jobs/events`` must come before ``/v1/api-jobs/{uuid}`` (api/app.py mounts
# these routes before those of api/routes/jobs.py).
ROUTES = [
    Route("/v1/api-jobs/events", all_job_events, methods=["GET"]),
    Route("/v1/api-jobs/{uuid}/events", job_events, methods=["GET"]),
]
