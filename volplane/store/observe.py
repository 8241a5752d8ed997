"""Read-only SQL for watching jobs live and for metrics: the job table seen in bulk.

Everything here is a plain SELECT answered from indexes (``state``, ``finish_date``,
``account_uuid``), cheap enough to run a few times a second per watcher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker

from schemas.tables import ApiJob, WebhookDelivery, utcnow
from volplane.jobs import UNFINISHED_STATES, JobState
from volplane.tenancy import Actor, visible


@dataclass(frozen=True)
class JobSnapshot:
    """The watchable part of a job: no request, no result."""

    uuid: str
    api_name: str
    state: str
    progress: int | None
    attempts: int
    resource_type: str | None
    resource_uuid: str | None
    account_uuid: str
    create_date: datetime
    start_date: datetime | None
    finish_date: datetime | None
    error: dict[str, Any] | None
    cancel_requested: bool

    @classmethod
    def from_row(cls, row: Row[Any] | ApiJob) -> JobSnapshot:
        return cls(
            uuid=row.uuid,
            api_name=row.api_name,
            state=row.state,
            progress=row.progress,
            attempts=row.attempts,
            resource_type=row.resource_type,
            resource_uuid=row.resource_uuid,
            account_uuid=row.account_uuid,
            create_date=row.create_date,
            start_date=row.start_date,
            finish_date=row.finish_date,
            error=row.error,
            cancel_requested=row.cancel_requested,
        )


_SNAPSHOT_COLUMNS = (
    ApiJob.uuid,
    ApiJob.api_name,
    ApiJob.state,
    ApiJob.progress,
    ApiJob.attempts,
    ApiJob.resource_type,
    ApiJob.resource_uuid,
    ApiJob.account_uuid,
    ApiJob.create_date,
    ApiJob.start_date,
    ApiJob.finish_date,
    ApiJob.error,
    ApiJob.cancel_requested,
)


class JobWatch:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def snapshot(self, job_uuid: str) -> JobSnapshot | None:
        with self.sessions() as session:
            row = session.execute(select(*_SNAPSHOT_COLUMNS).where(ApiJob.uuid == job_uuid)).first()
            return None if row is None else JobSnapshot.from_row(row)

    def active_and_recent(
        self, *, finished_since: datetime, actor: Actor, limit: int = 2000
    ) -> list[JobSnapshot]:
        """Unfinished jobs, and jobs that ended at or after ``finished_since``."""
        query = (
            select(*_SNAPSHOT_COLUMNS)
            .where(
                or_(
                    ApiJob.state.in_(UNFINISHED_STATES),
                    ApiJob.finish_date >= finished_since,
                )
            )
            .order_by(ApiJob.id.desc())
            .limit(limit)
        )
        query = query.where(visible(ApiJob, actor))
        with self.sessions() as session:
            rows = session.execute(query).all()
        return [JobSnapshot.from_row(row) for row in reversed(rows)]


# --- metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStats:
    by_api_and_state: list[tuple[str, str, int]]
    duration_buckets: dict[str, list[int]]  # api name -> cumulative count per bucket bound
    duration_sums: dict[str, tuple[int, float]]  # api name -> (count, total seconds)
    oldest_pending: datetime | None
    webhook_attempts: list[tuple[str, int]]  # outcome -> attempts
    webhooks_by_state: list[tuple[str, int]]


def _seconds_between(dialect: str, start: Any, end: Any) -> Any:
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


class Stats:
    """What ``/metrics`` reports, computed at scrape time so every process agrees."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def jobs(self, buckets: Sequence[float]) -> JobStats:
        with self.sessions() as session:
            dialect = session.get_bind().dialect.name
            by_state = [
                (str(api), str(state), int(n))
                for api, state, n in session.execute(
                    select(ApiJob.api_name, ApiJob.state, func.count()).group_by(
                        ApiJob.api_name, ApiJob.state
                    )
                )
            ]
            seconds = cast(_seconds_between(dialect, ApiJob.start_date, ApiJob.finish_date), Float)
            finished = ApiJob.finish_date.is_not(None) & ApiJob.start_date.is_not(None)
            columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in buckets]
            duration_buckets: dict[str, list[int]] = {}
            duration_sums: dict[str, tuple[int, float]] = {}
            for row in session.execute(
                select(ApiJob.api_name, func.count(), func.sum(seconds), *columns)
                .where(finished)
                .group_by(ApiJob.api_name)
            ):
                api, count, total, *cumulative = row
                duration_sums[str(api)] = (int(count), float(total or 0.0))
                duration_buckets[str(api)] = [int(c or 0) for c in cumulative]
            oldest = session.scalar(
                select(func.min(ApiJob.create_date)).where(ApiJob.state == JobState.PENDING.value)
            )
            outcome = case(
                (WebhookDelivery.status_code.is_(None), "error"),
                (WebhookDelivery.status_code.between(200, 299), "delivered"),
                else_="rejected",
            )
            attempts = [
                (str(name), int(n))
                for name, n in session.execute(select(outcome, func.count()).group_by(outcome))
            ]
            webhooks = [
                (str(state), int(n))
                for state, n in session.execute(
                    select(ApiJob.webhook_state, func.count())
                    .where(ApiJob.webhook_state.is_not(None))
                    .group_by(ApiJob.webhook_state)
                )
            ]
        if isinstance(oldest, datetime) and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        return JobStats(by_state, duration_buckets, duration_sums, oldest, attempts, webhooks)

    def agent_latencies(self) -> list[tuple[str, str, float]]:
        """(host uuid, name, heartbeat round trip in ms) of hosts that answered."""
        from schemas.infra import Host

        with self.sessions() as session:
            rows = session.execute(
                select(Host.uuid, Host.name, Host.heartbeat_latency_ms).where(
                    Host.heartbeat_latency_ms.is_not(None)
                )
            )
            return [(uuid, name, float(ms)) for uuid, name, ms in rows if ms is not None]

    def count_by(self, table: Any, *columns: str) -> list[tuple[tuple[str, ...], int]]:
        """Row counts of ``table`` grouped by ``columns`` (e.g. hosts by status)."""
        selected = [getattr(table, name) for name in columns]
        with self.sessions() as session:
            return [
                (tuple(str(v) for v in row[:-1]), int(row[-1]))
                for row in session.execute(select(*selected, func.count()).group_by(*selected))
            ]
