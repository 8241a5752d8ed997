"""The periodic sweep: repairs what crashes and lost messages leave behind.

Run by Celery beat every ``sweep_interval_seconds``. Every step is a conditional
update, so two sweepers at once do no harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from volplane.runtime import Runtime

log = logging.getLogger("volplane.sweeper")


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    failed: int
    redispatched: int
    webhooks: int
    expired_jobs: int
    expired_sessions: int


def sweep(runtime: Runtime) -> SweepReport:
    settings = runtime.settings
    jobs = runtime.jobs
    requeued, failed = jobs.recover_lost(settings.job_max_attempts)
    runtime.dispatch(requeued)
    for job_uuid in failed:
        job = jobs.get(job_uuid)
        if job is not None:
            runtime.dispatch_next(job.sync_key)
            if job.webhook_url:
                runtime.schedule_webhook(job_uuid)
    heads = jobs.undispatched_heads(settings.dispatch_grace_seconds)
    if heads:
        jobs.mark_dispatched(heads)
        runtime.dispatch(heads)
    webhooks = jobs.due_webhooks(settings.dispatch_grace_seconds)
    for job_uuid in webhooks:
        runtime.schedule_webhook(job_uuid)
    report = SweepReport(
        requeued=len(requeued),
        failed=len(failed),
        redispatched=len(heads),
        webhooks=len(webhooks),
        expired_jobs=jobs.expire_finished(settings.job_retention_seconds),
        expired_sessions=runtime.accounts.expire_sessions(),
    )
    if any(vars(report).values()):
        log.info("sweep", extra={"report": vars(report)})
    return report
