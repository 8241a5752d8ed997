"""The job table's SQL: submission, claiming with a lease, fencing, sweeping.

Every state change is one conditional UPDATE, so two gateways, two workers or a
redelivered message can race freely: at most one of them wins, the others see
``rowcount == 0`` and step back.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from schemas.tables import ApiJob, JobSecret, WebhookDelivery, utcnow
from volplane.errors import JobLost, JobUUIDConflict
from volplane.jobs import UNFINISHED_STATES, JobState, WebhookState
from volplane.store.results import affected


@dataclass(frozen=True)
class NewJob:
    uuid: str
    account_uuid: str
    api_name: str
    request: dict[str, Any]
    request_digest: str
    resource_type: str | None
    resource_uuid: str | None
    sync_key: str
    base_url: str
    webhook_url: str | None
    secrets: dict[str, str] | None = None
    uuid_from_client: bool = False  # an X-Job-UUID: it may name an existing job


@dataclass(frozen=True)
class Submission:
    job_uuid: str
    is_new: bool
    should_dispatch: bool


def job_row(new: NewJob, now: datetime, *, dispatched: bool) -> dict[str, Any]:
    return {
        "uuid": new.uuid,
        "account_uuid": new.account_uuid,
        "api_name": new.api_name,
        "request": new.request,
        "request_digest": new.request_digest,
        "resource_type": new.resource_type,
        "resource_uuid": new.resource_uuid,
        "sync_key": new.sync_key,
        "state": JobState.PENDING.value,
        "base_url": new.base_url,
        "webhook_url": new.webhook_url,
        "create_date": now,
        "dispatched_at": now if dispatched else None,
        "attempts": 0,
        "cancel_requested": False,
    }


def secret_rows(fresh: dict[str, NewJob]) -> list[dict[str, str]]:
    return [
        {"job_uuid": uuid, "name": name, "value": value}
        for uuid, new in fresh.items()
        for name, value in (new.secrets or {}).items()
    ]


def fresh_jobs(batch: list[NewJob], known: dict[str, tuple[str, str]]) -> dict[str, NewJob]:
    """The jobs of a batch to insert, by uuid, in acceptance order.

    ``known`` maps uuids already recorded to (account, request digest). A uuid
    the gateway drew is new by construction; only client-chosen ones are looked up.
    """
    fresh: dict[str, NewJob] = {}
    for new in batch:
        if new.uuid not in known and new.uuid not in fresh:
            fresh[new.uuid] = new
    return fresh


def sync_keys(fresh: dict[str, NewJob]) -> list[str]:
    return list({new.sync_key for new in fresh.values()})


def blocked_jobs(fresh: dict[str, NewJob], busy: set[str]) -> set[str]:
    """Jobs that must wait: their resource has unfinished work (``busy`` sync keys)
    or an earlier job of the same batch. Their predecessor dispatches them when it
    ends (or the sweeper does)."""
    busy = set(busy)
    blocked = set()
    for uuid, new in fresh.items():  # acceptance order
        if new.sync_key in busy:
            blocked.add(uuid)
        busy.add(new.sync_key)
    return blocked


def batch_outcomes(
    batch: list[NewJob],
    known: dict[str, tuple[str, str]],
    fresh: dict[str, NewJob],
    blocked: set[str],
) -> list[Submission | JobUUIDConflict]:
    """Per job of a recorded batch: new, a replay of an identical request, or a conflict."""
    outcomes: list[Submission | JobUUIDConflict] = []
    recorded: set[str] = set()
    for new in batch:
        if new.uuid in fresh and new.uuid not in recorded and fresh[new.uuid] is new:
            recorded.add(new.uuid)
            outcomes.append(Submission(new.uuid, True, new.uuid not in blocked))
            continue
        first = fresh.get(new.uuid)
        account, digest = (
            known[new.uuid] if first is None else (first.account_uuid, first.request_digest)
        )
        if account != new.account_uuid or digest != new.request_digest:
            outcomes.append(JobUUIDConflict(f"X-Job-UUID {new.uuid} was used for another request"))
        else:
            outcomes.append(Submission(new.uuid, False, False))
    return outcomes


def _earlier_unfinished(job_table: Any) -> Any:
    """EXISTS: an earlier job on the same sync key has not ended (ordering rule)."""
    prior = aliased(ApiJob)
    return exists().where(
        prior.sync_key == job_table.sync_key,
        prior.id < job_table.id,
        prior.state.in_(UNFINISHED_STATES),
    )


# Built once: constructing these per batch was a visible part of admission's cost.
# Core statements on the table (no ORM entities): less work per batch.
_JOBS: Table = ApiJob.__table__  # type: ignore[assignment]
_KNOWN_JOBS = select(_JOBS.c.uuid, _JOBS.c.account_uuid, _JOBS.c.request_digest).where(
    _JOBS.c.uuid.in_(bindparam("uuids", expanding=True))
)
_BUSY_SYNC_KEYS = (
    select(_JOBS.c.sync_key)
    .where(
        _JOBS.c.sync_key.in_(bindparam("keys", expanding=True)),
        _JOBS.c.state.in_(UNFINISHED_STATES),
    )
    .distinct()
)


class JobStore:
    def __init__(
        self, sessions: sessionmaker[Session], *, finished_cache_size: int = 10_000
    ) -> None:
        self.sessions = sessions
        # A finished job's result never changes, so polls of it are answered from
        # memory. (Webhook bookkeeping does change; job inventories read the table.)
        self._finished: OrderedDict[str, ApiJob] = OrderedDict()
        self._finished_cache_size = finished_cache_size

    def cached_finished(self, job_uuid: str) -> ApiJob | None:
        return self._finished.get(job_uuid)

    def get_for_poll(self, job_uuid: str) -> ApiJob | None:
        job = self.get(job_uuid)
        if job is not None and job.state not in UNFINISHED_STATES:
            self._finished[job_uuid] = job
            if len(self._finished) > self._finished_cache_size:
                self._finished.popitem(last=False)
        return job

    # --- gateway side -----------------------------------------------------

    def submit(self, new: NewJob) -> Submission:
        """Records one job, or finds the one an identical earlier request created."""
        outcome = self.submit_many([new])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def submit_many(self, batch: list[NewJob]) -> list[Submission | JobUUIDConflict]:
        """Records many jobs in one transaction: one commit (one fsync) for the batch.

        Under load the gateway groups concurrent submissions, so admission costs two
        statements and a commit per batch instead of per call. (On PostgreSQL the
        gateway uses ``volplane.store.pg_admission``, the same rules on its event loop.)
        """
        now = utcnow()
        chosen = [new.uuid for new in batch if new.uuid_from_client]
        with self.sessions() as session:
            known: dict[str, tuple[str, str]] = (
                {
                    row[0]: (row[1], row[2])
                    for row in session.execute(_KNOWN_JOBS, {"uuids": chosen})
                }
                if chosen
                else {}
            )
            fresh = fresh_jobs(batch, known)
            blocked: set[str] = set()
            if fresh:
                busy = set(session.scalars(_BUSY_SYNC_KEYS, {"keys": sync_keys(fresh)}))
                blocked = blocked_jobs(fresh, busy)
                try:
                    session.execute(
                        insert(_JOBS),
                        [
                            job_row(new, now, dispatched=uuid not in blocked)
                            for uuid, new in fresh.items()
                        ],
                    )
                    secrets = secret_rows(fresh)
                    if secrets:
                        session.execute(insert(JobSecret), secrets)
                except IntegrityError:
                    # Another gateway recorded one of these uuids at the same moment:
                    # take the slow, exact path one job at a time.
                    session.rollback()
                    return self.submit_each(batch)
                session.commit()
        return batch_outcomes(batch, known, fresh, blocked)

    def submit_each(self, batch: list[NewJob]) -> list[Submission | JobUUIDConflict]:
        """The exact path after a uuid collision: one job per transaction."""
        if len(batch) == 1:
            return [self._replay(batch[0])]
        return [self._submit_alone(new) for new in batch]

    def _submit_alone(self, new: NewJob) -> Submission | JobUUIDConflict:
        try:
            return self.submit(new)
        except JobUUIDConflict as exc:
            return exc

    def _replay(self, new: NewJob) -> Submission | JobUUIDConflict:
        with self.sessions() as session:
            existing = session.execute(
                select(ApiJob.account_uuid, ApiJob.request_digest).where(ApiJob.uuid == new.uuid)
            ).first()
        if existing is None or tuple(existing) != (new.account_uuid, new.request_digest):
            return JobUUIDConflict(f"X-Job-UUID {new.uuid} was used for another request")
        return Submission(new.uuid, False, False)

    def secret(self, job_uuid: str, name: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(JobSecret.value).where(
                    JobSecret.job_uuid == job_uuid, JobSecret.name == name
                )
            )

    def get(self, job_uuid: str) -> ApiJob | None:
        with self.sessions() as session:
            return session.scalar(select(ApiJob).where(ApiJob.uuid == job_uuid))

    def deliveries(self, job_uuid: str) -> list[WebhookDelivery]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.job_uuid == job_uuid)
                    .order_by(WebhookDelivery.attempt)
                )
            )

    def cancel(self, job_uuid: str) -> tuple[ApiJob | None, bool]:
        """Cancels a pending job now, or asks a running one to stop.

        Returns the job and whether the next job of its sync key may now run.
        """
        now = utcnow()
        with self.sessions() as session:
            done = affected(
                session.execute(
                    update(ApiJob)
                    .where(ApiJob.uuid == job_uuid, ApiJob.state == JobState.PENDING.value)
                    .values(
                        state=JobState.CANCELLED.value,
                        finish_date=now,
                        cancel_requested=True,
                        error=None,
                    )
                )
            )
            if done:
                session.execute(delete(JobSecret).where(JobSecret.job_uuid == job_uuid))
            if not done:
                session.execute(
                    update(ApiJob)
                    .where(ApiJob.uuid == job_uuid, ApiJob.state == JobState.RUNNING.value)
                    .values(cancel_requested=True)
                )
            session.commit()
            job = session.scalar(select(ApiJob).where(ApiJob.uuid == job_uuid))
            return job, bool(done)

    def mark_dispatched(self, job_uuids: list[str]) -> None:
        with self.sessions() as session:
            session.execute(
                update(ApiJob).where(ApiJob.uuid.in_(job_uuids)).values(dispatched_at=utcnow())
            )
            session.commit()

    # --- worker side ------------------------------------------------------

    def claim(
        self, job_uuid: str, token: str, *, lease_seconds: float, max_attempts: int
    ) -> ApiJob | None:
        """Takes the job for one run, if it is its turn and nobody holds a live lease."""
        now = utcnow()
        with self.sessions() as session:
            claimed = affected(
                session.execute(
                    update(ApiJob)
                    .where(
                        ApiJob.uuid == job_uuid,
                        or_(
                            ApiJob.state == JobState.PENDING.value,
                            and_(
                                ApiJob.state == JobState.RUNNING.value,
                                ApiJob.lease_expires < now,
                                ApiJob.attempts < max_attempts,
                            ),
                        ),
                        ~_earlier_unfinished(ApiJob),
                    )
                    .values(
                        state=JobState.RUNNING.value,
                        lease_token=token,
                        lease_expires=now + timedelta(seconds=lease_seconds),
                        attempts=ApiJob.attempts + 1,
                        start_date=now,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
            session.commit()
            if not claimed:
                return None
            return session.scalar(select(ApiJob).where(ApiJob.uuid == job_uuid))

    def renew(self, job_uuid: str, token: str, lease_seconds: float) -> tuple[bool, bool]:
        """Extends the lease. Returns (still held, cancel requested)."""
        with self.sessions() as session:
            held = affected(
                session.execute(
                    update(ApiJob)
                    .where(ApiJob.uuid == job_uuid, ApiJob.lease_token == token)
                    .where(ApiJob.state == JobState.RUNNING.value)
                    .values(lease_expires=utcnow() + timedelta(seconds=lease_seconds))
                )
            )
            cancel = session.scalar(select(ApiJob.cancel_requested).where(ApiJob.uuid == job_uuid))
            session.commit()
            return bool(held), bool(cancel)

    def set_progress(self, job_uuid: str, token: str, progress: int) -> bool:
        with self.sessions() as session:
            held = affected(
                session.execute(
                    update(ApiJob)
                    .where(ApiJob.uuid == job_uuid, ApiJob.lease_token == token)
                    .where(ApiJob.state == JobState.RUNNING.value)
                    .values(progress=max(0, min(100, progress)))
                )
            )
            session.commit()
            return bool(held)

    @staticmethod
    def finish_in(
        session: Session,
        job_uuid: str,
        token: str,
        state: JobState,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> bool:
        """Ends the job inside the caller's transaction, only if the lease is still ours.

        The operation's own writes share this transaction, so a run that lost its
        lease (a replacement worker took over) commits nothing at all.
        """
        done = affected(
            session.execute(
                update(ApiJob)
                .where(ApiJob.uuid == job_uuid, ApiJob.lease_token == token)
                .where(ApiJob.state == JobState.RUNNING.value)
                .values(
                    state=state.value,
                    result=result,
                    error=error,
                    progress=100 if state is JobState.SUCCEEDED else ApiJob.progress,
                    finish_date=utcnow(),
                    lease_expires=None,
                    webhook_state=_webhook_pending_if_wanted(),
                    webhook_next_attempt=utcnow(),
                    webhook_since=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
        )
        if done:
            session.execute(delete(JobSecret).where(JobSecret.job_uuid == job_uuid))
        return bool(done)

    def next_in_line(self, sync_key: str) -> str | None:
        """The job whose turn it is on ``sync_key``, if it is still pending."""
        with self.sessions() as session:
            head = session.scalar(
                select(ApiJob)
                .where(ApiJob.sync_key == sync_key, ApiJob.state.in_(UNFINISHED_STATES))
                .order_by(ApiJob.id)
                .limit(1)
            )
            if head is None or head.state != JobState.PENDING.value:
                return None
            return head.uuid

    # --- sweeper side -----------------------------------------------------

    def undispatched_heads(self, grace_seconds: float, limit: int = 500) -> list[str]:
        """Pending jobs whose turn it is but whose message is missing or stale."""
        cutoff = utcnow() - timedelta(seconds=grace_seconds)
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ApiJob.uuid)
                    .where(
                        ApiJob.state == JobState.PENDING.value,
                        or_(ApiJob.dispatched_at.is_(None), ApiJob.dispatched_at < cutoff),
                        ~_earlier_unfinished(ApiJob),
                    )
                    .order_by(ApiJob.id)
                    .limit(limit)
                )
            )

    def recover_lost(self, max_attempts: int) -> tuple[list[str], list[str]]:
        """Jobs whose worker died (lease expired): re-queue, or fail when even the last
        run died.

        After ``max_attempts`` runs a job gets one more, which the runner makes a run
        with the cancel already asked (``workers.runner``), so that half-made work is
        finished or removed. Returns (requeued uuids, failed uuids).
        """
        now = utcnow()
        with self.sessions() as session:
            expired = list(
                session.execute(
                    select(ApiJob.uuid, ApiJob.attempts, ApiJob.lease_token).where(
                        ApiJob.state == JobState.RUNNING.value, ApiJob.lease_expires < now
                    )
                )
            )
            requeued: list[str] = []
            failed: list[str] = []
            for job_uuid, attempts, token in expired:
                fenced = update(ApiJob).where(
                    ApiJob.uuid == job_uuid,
                    ApiJob.lease_token == token,
                    ApiJob.state == JobState.RUNNING.value,
                )
                if attempts > max_attempts:
                    error = JobLost(
                        f"the job's worker was lost {attempts} times; giving up"
                    ).to_body()
                    values: dict[str, Any] = {
                        "state": JobState.FAILED.value,
                        "error": error,
                        "finish_date": now,
                        "lease_token": None,
                        "lease_expires": None,
                        "webhook_state": _webhook_pending_if_wanted(),
                        "webhook_next_attempt": now,
                        "webhook_since": now,
                    }
                    target = failed
                else:
                    values = {
                        "state": JobState.PENDING.value,
                        "lease_token": None,
                        "lease_expires": None,
                        "dispatched_at": now,
                    }
                    target = requeued
                if affected(session.execute(fenced.values(**values))):
                    target.append(job_uuid)
                    if target is failed:
                        session.execute(delete(JobSecret).where(JobSecret.job_uuid == job_uuid))
            session.commit()
            return requeued, failed

    def expire_finished(self, retention_seconds: float) -> int:
        cutoff = utcnow() - timedelta(seconds=retention_seconds)
        with self.sessions() as session:
            old = select(ApiJob.uuid).where(ApiJob.finish_date < cutoff)
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.job_uuid.in_(old)))
            removed = affected(session.execute(delete(ApiJob).where(ApiJob.finish_date < cutoff)))
            session.commit()
            return int(removed or 0)

    # --- webhooks ---------------------------------------------------------

    def take_webhook_attempt(self, job_uuid: str, hold_seconds: float) -> ApiJob | None:
        """Claims the next delivery attempt so two senders never post the same one."""
        now = utcnow()
        with self.sessions() as session:
            taken = affected(
                session.execute(
                    update(ApiJob)
                    .where(
                        ApiJob.uuid == job_uuid,
                        ApiJob.webhook_state == WebhookState.PENDING.value,
                        ApiJob.webhook_next_attempt <= now,
                    )
                    .values(webhook_next_attempt=now + timedelta(seconds=hold_seconds))
                )
            )
            session.commit()
            if not taken:
                return None
            return session.scalar(select(ApiJob).where(ApiJob.uuid == job_uuid))

    def record_webhook_attempt(
        self,
        job_uuid: str,
        *,
        attempt: int,
        status_code: int | None,
        latency_ms: float,
        error: str | None,
        next_state: WebhookState,
        next_attempt: datetime | None,
    ) -> None:
        with self.sessions() as session:
            session.add(
                WebhookDelivery(
                    job_uuid=job_uuid,
                    attempt=attempt,
                    status_code=status_code,
                    latency_ms=latency_ms,
                    error=error,
                )
            )
            session.execute(
                update(ApiJob)
                .where(ApiJob.uuid == job_uuid)
                .values(webhook_state=next_state.value, webhook_next_attempt=next_attempt)
            )
            session.commit()

    def count_webhook_attempts(self, job_uuid: str) -> int:
        with self.sessions() as session:
            return int(
                session.scalar(select(func.count()).where(WebhookDelivery.job_uuid == job_uuid))
                or 0
            )

    def request_redelivery(self, job_uuid: str) -> bool:
        with self.sessions() as session:
            done = affected(
                session.execute(
                    update(ApiJob)
                    .where(ApiJob.uuid == job_uuid, ApiJob.webhook_url.is_not(None))
                    .where(ApiJob.finish_date.is_not(None))
                    .values(
                        webhook_state=WebhookState.PENDING.value,
                        webhook_next_attempt=utcnow(),
                        webhook_since=utcnow(),
                    )
                )
            )
            session.commit()
            return bool(done)

    def due_webhooks(self, grace_seconds: float, limit: int = 500) -> list[str]:
        cutoff = utcnow() - timedelta(seconds=grace_seconds)
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ApiJob.uuid)
                    .where(
                        ApiJob.webhook_state == WebhookState.PENDING.value,
                        ApiJob.webhook_next_attempt < cutoff,
                    )
                    .limit(limit)
                )
            )


def _webhook_pending_if_wanted() -> Any:
    """SQL: 'Pending' when the job has a webhook URL, else NULL."""
    return case((ApiJob.webhook_url.is_not(None), WebhookState.PENDING.value), else_=None)
