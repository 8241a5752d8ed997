"""Pushes a finished job's result to its webhook: one attempt per task run.

The retry schedule is the pure ``decide_after_attempt``; this module only loads,
sends, records and schedules the next attempt.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime

from schemas.tables import utcnow
from volplane.jobs import JobState, WebhookState, final_body
from volplane.logs import job_logging
from volplane.runtime import Runtime
from workers.webhooks import (
    Delivered,
    GiveUp,
    RetryPolicy,
    build_webhook_headers,
    decide_after_attempt,
    deliver_once,
)

log = logging.getLogger("volplane.webhooks")


def deliver_webhook(runtime: Runtime, job_uuid: str) -> str:
    with job_logging(job_uuid):
        return _deliver(runtime, job_uuid)


def _deliver(runtime: Runtime, job_uuid: str) -> str:
    settings = runtime.settings
    jobs = runtime.jobs
    job = jobs.take_webhook_attempt(job_uuid, hold_seconds=settings.webhook_timeout_seconds * 3)
    if job is None or not job.webhook_url:
        return "skipped"
    account = runtime.accounts.get(job.account_uuid)
    if account is None:
        return "skipped"
    state = JobState(job.state)
    body = json.dumps(final_body(state, job.result, job.error), separators=(",", ":")).encode()
    attempt = jobs.count_webhook_attempts(job_uuid) + 1
    now = utcnow()
    headers = build_webhook_headers(
        job_uuid=job.uuid,
        success=state is JobState.SUCCEEDED,
        secret=account.webhook_secret,
        msg_id=f"msg_{job.uuid}",
        timestamp=int(now.timestamp()),
        body=body,
    )
    outcome = deliver_once(
        job.webhook_url,
        body,
        headers,
        timeout=settings.webhook_timeout_seconds,
        allow_networks=settings.webhook_allow_networks,
    )
    decision = decide_after_attempt(
        attempt=attempt,
        status_code=outcome.status_code,
        error=outcome.error,
        first_attempt_at=job.webhook_since or now,
        now=datetime.now(UTC),
        policy=RetryPolicy.from_settings(settings),
        rng=random.Random(),
    )
    error = outcome.error
    if isinstance(decision, Delivered):
        next_state, next_at = WebhookState.DELIVERED, None
    elif isinstance(decision, GiveUp):
        next_state, next_at = WebhookState.GAVE_UP, None
        error = f"{error}; {decision.reason}" if error else decision.reason
    else:
        next_state, next_at = WebhookState.PENDING, decision.when
    jobs.record_webhook_attempt(
        job_uuid,
        attempt=attempt,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=error,
        next_state=next_state,
        next_attempt=next_at,
    )
    if next_at is not None:
        runtime.schedule_webhook(job_uuid, countdown=max(0.0, (next_at - utcnow()).total_seconds()))
    log.info(
        "webhook attempt",
        extra={"job_uuid": job_uuid, "attempt": attempt, "status": outcome.status_code},
    )
    return next_state.value
