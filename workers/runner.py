"""Runs one job: claim it under a lease, run its operation, end it fenced.

The lease makes a redelivered message harmless: whoever does not hold the lease
steps back, and only the lease holder's end of the job (with the operation's own
writes, in the same transaction) is ever committed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from drivers.client import AgentClient
from schemas.tables import ApiJob, new_uuid
from volplane.errors import InvalidParameter, JobCancelled, JobLost, VolplaneError
from volplane.jobs import JobState
from volplane.logs import job_logging
from volplane.settings import Settings
from workers.runtime import WorkerRuntime
from workers.transactions import ReadOnlyTransactions, outside_transaction

log = logging.getLogger("volplane.runner")


class LeaseLost(Exception):
    """Another worker took this job over; this run must stop and commit nothing."""


@dataclass
class RunContext:
    """The JobContext an operation sees (workers.context.JobContext)."""

    session: Session
    settings: Settings
    job_uuid: str
    account_uuid: str
    is_admin: bool
    resource_uuid: str | None
    runtime: WorkerRuntime
    token: str
    transactions: ReadOnlyTransactions
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lost: threading.Event = field(default_factory=threading.Event)
    _last_progress: int = -1
    _last_renew: float = field(default_factory=time.monotonic)

    def progress(self, percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        if percent == self._last_progress:
            return
        self._last_progress = percent
        if not self.runtime.jobs.set_progress(self.job_uuid, self.token, percent):
            self._lost.set()

    def checkpoint(self) -> None:
        # Checkpoints are where cancels are noticed; ask the database at most twice
        # a second so a tight loop of checkpoints stays cheap.
        if time.monotonic() - self._last_renew > 0.5:
            self._last_renew = time.monotonic()
            held, cancel = self.runtime.jobs.renew(
                self.job_uuid, self.token, self.settings.job_lease_seconds
            )
            if not held:
                self._lost.set()
            if cancel:
                self.ask_cancel()
        if self._lost.is_set():
            raise LeaseLost(self.job_uuid)
        if self._cancel.is_set():
            raise JobCancelled(f"job {self.job_uuid} was cancelled")

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def ask_cancel(self) -> None:
        """Makes the next cancel point raise, as a client's cancel would."""
        self._cancel.set()

    def secret(self, name: str) -> str | None:
        return self.runtime.jobs.secret(self.job_uuid, name)

    def end_read_transaction(self) -> None:
        self.transactions.end_if_read_only()

    def agent(self, base_url: str, token: str) -> AgentClient:
        # Each call first ends the job's transaction if it wrote nothing (transactions.py).
        return outside_transaction(self.runtime.agent_client(base_url, token), self.transactions)

    def op_id(self, step: str) -> str:
        return f"{self.job_uuid}-{step}"


class _LeaseKeeper(threading.Thread):
    """Renews the lease while the operation runs, and notices cancel requests."""

    def __init__(self, ctx: RunContext, lease_seconds: float) -> None:
        super().__init__(name=f"lease-{ctx.job_uuid}", daemon=True)
        self.ctx = ctx
        self.lease_seconds = lease_seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = max(0.2, self.lease_seconds / 3)
        while not self.stopped.wait(interval):
            try:
                held, cancel = self.ctx.runtime.jobs.renew(
                    self.ctx.job_uuid, self.ctx.token, self.lease_seconds
                )
            except Exception:  # a database blip: try again next tick, the lease has slack
                log.warning("lease renewal failed", extra={"job_uuid": self.ctx.job_uuid})
                continue
            if not held:
                self.ctx._lost.set()
                return
            if cancel:
                self.ctx.ask_cancel()


def run_job(runtime: WorkerRuntime, job_uuid: str) -> str:
    """Runs the job if it is ours to run. Returns what happened, for logs and tests."""
    settings = runtime.settings
    token = new_uuid()
    job = runtime.jobs.claim(
        job_uuid,
        token,
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
    )
    if job is None:
        return "skipped"
    with job_logging(job.uuid):
        return _run_claimed(runtime, job, token)


def _run_claimed(runtime: WorkerRuntime, job: ApiJob, token: str) -> str:
    settings = runtime.settings
    account = runtime.accounts.get(job.account_uuid)
    with runtime.sessions() as session:
        ctx = RunContext(
            session=session,
            settings=settings,
            job_uuid=job.uuid,
            account_uuid=job.account_uuid,
            is_admin=bool(account and account.is_admin),
            resource_uuid=job.resource_uuid,
            runtime=runtime,
            token=token,
            transactions=ReadOnlyTransactions(session),
        )
        keeper = _LeaseKeeper(ctx, settings.job_lease_seconds)
        keeper.start()
        try:
            outcome = _run_operation(runtime, ctx, job, session)
        finally:
            keeper.stopped.set()
            keeper.join()
            ctx.transactions.close()
    if outcome != "lost":
        _after_end(runtime, job)
    log.info("job ended", extra={"job_uuid": job.uuid, "outcome": outcome})
    return outcome


def _run_operation(runtime: WorkerRuntime, ctx: RunContext, job: ApiJob, session: Session) -> str:
    jobs = runtime.jobs
    # A run after job_max_attempts runs died (JobStore.recover_lost), or a rerun of a job
    # whose cancel was asked before its worker died, has the cancel asked from the
    # start. An operation with cancel points stops at the first and removes what the
    # runs before it made; one without (short agent steps, re-attached by id) finishes
    # the work they left half-made.
    last_run = job.attempts > runtime.settings.job_max_attempts
    cleanup = last_run or job.cancel_requested
    try:
        runnable = runtime.operations.get(job.api_name)
        try:
            request = runnable.operation.request_model.model_validate(job.request.get("params", {}))
        except ValidationError as exc:
            raise InvalidParameter(str(exc)) from exc
        if cleanup:
            ctx.ask_cancel()
        else:
            ctx.checkpoint()
        result = runnable.run(ctx, request)
        # No cancel check here: the work is done (and may have committed steps of its
        # own), so a cancel that comes now is too late. The lease is checked by
        # finish_in, which ends the job only if it is still ours.
        if not jobs.finish_in(session, job.uuid, ctx.token, JobState.SUCCEEDED, result=result):
            session.rollback()
            return "lost"
        session.commit()
        return "succeeded"
    except LeaseLost:
        session.rollback()
        return "lost"
    except JobCancelled as exc:
        if last_run and not job.cancel_requested:
            lost = JobLost(
                f"the job's worker was lost {job.attempts - 1} times; what it left was removed"
            )
            return _end_failed(session, jobs, ctx, job, JobState.FAILED, lost)
        return _end_failed(session, jobs, ctx, job, JobState.CANCELLED, exc)
    except VolplaneError as exc:
        return _end_failed(session, jobs, ctx, job, JobState.FAILED, exc)
    except Exception as exc:
        log.exception("operation crashed", extra={"job_uuid": job.uuid})
        bug = VolplaneError(f"internal error in {job.api_name}: {type(exc).__name__}")
        return _end_failed(session, jobs, ctx, job, JobState.FAILED, bug)


def _end_failed(
    session: Session,
    jobs: Any,
    ctx: RunContext,
    job: ApiJob,
    state: JobState,
    error: VolplaneError,
) -> str:
    session.rollback()
    if not jobs.finish_in(session, job.uuid, ctx.token, state, error=error.to_body()):
        session.rollback()
        return "lost"
    session.commit()
    return state.value.lower()


def _after_end(runtime: WorkerRuntime, job: ApiJob) -> None:
    """A job ended: let the next one on its resource run, and push its webhook."""
    runtime.dispatch_next(job.sync_key)
    if job.webhook_url:
        runtime.schedule_webhook(job.uuid)
