"""What every dialect does to a job besides recording it (``api.submit.record_job``):
cancel it, and push its webhook again. One place, so the dialects only translate."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from schemas.tables import ApiJob
from volplane.errors import JobStateConflict
from volplane.jobs import JobState
from volplane.runtime import Runtime


async def cancel_job(runtime: Runtime, job: ApiJob) -> ApiJob:
    """Cancels a pending job at once (the next job of its resource may then run) or asks
    a running one to stop at its next cancel point. An ended job is a conflict."""
    if JobState(job.state).is_final:
        raise JobStateConflict(f"job {job.uuid} already ended as {job.state}")
    cancelled, was_pending = await run_in_threadpool(runtime.jobs.cancel, job.uuid)
    assert cancelled is not None
    if was_pending:
        await run_in_threadpool(runtime.dispatch_next, cancelled.sync_key)
    return cancelled


async def redeliver_webhook(runtime: Runtime, job: ApiJob) -> None:
    """Delivers an ended job's webhook once more."""
    if not job.webhook_url or not JobState(job.state).is_final:
        raise JobStateConflict(f"job {job.uuid} has no finished webhook delivery to repeat")
    await run_in_threadpool(runtime.jobs.request_redelivery, job.uuid)
    await run_in_threadpool(runtime.schedule_webhook, job.uuid)
