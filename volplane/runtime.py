"""What the gateway and the workers share per process: the database, the stores and
the broker to send run messages through, built lazily once per process.

Celery's prefork pool forks after the app is configured; database engines and
HTTP clients must be made in the child, so nothing here is built at import time.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from volplane.db import make_engine, make_session_factory
from volplane.settings import Settings
from volplane.store.accounts import AccountStore
from volplane.store.jobs import JobStore

if TYPE_CHECKING:
    from celery import Celery


class Runtime:
    def __init__(self, settings: Settings, celery: Celery) -> None:
        self.settings = settings
        self.celery = celery

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def jobs(self) -> JobStore:
        return JobStore(self.sessions)

    @cached_property
    def accounts(self) -> AccountStore:
        return AccountStore(
            self.sessions,
            session_timeout=self.settings.session_timeout_seconds,
            cache_seconds=self.settings.session_cache_seconds,
        )

    def dispatch(self, job_uuids: list[str]) -> None:
        """Sends the run messages for ``job_uuids``. A lost send is repaired by the sweeper.

        One job gets its run message directly. Many (a busy gateway's admission
        batch, a sweep) travel as one fan-out message that a worker splits into run
        messages: publishing costs the sender one message per batch instead of one
        per job, and the work of splitting lands on workers, not on the gateway.
        """
        for task, args in run_messages(job_uuids):
            self.celery.send_task(task, args=args)

    def send_run_messages(self, job_uuids: list[str]) -> None:
        """One run message per job (a worker's half of a fan-out)."""
        for job_uuid in job_uuids:
            self.celery.send_task(RUN_JOB, args=[job_uuid])

    def dispatch_next(self, sync_key: str) -> None:
        head = self.jobs.next_in_line(sync_key)
        if head is not None:
            self.jobs.mark_dispatched([head])
            self.dispatch([head])

    def schedule_webhook(self, job_uuid: str, countdown: float = 0.0) -> None:
        self.celery.send_task(DELIVER_WEBHOOK, args=[job_uuid], countdown=countdown)


RUN_JOB = "volplane.run_job"
FAN_OUT = "volplane.fan_out"


def run_messages(job_uuids: list[str]) -> list[tuple[str, list[Any]]]:
    """The (task, args) messages that start ``job_uuids``: one run message for a
    single job, one fan-out message for many."""
    if len(job_uuids) == 1:
        return [(RUN_JOB, [job_uuids[0]])]
    return [(FAN_OUT, [job_uuids])] if job_uuids else []


DELIVER_WEBHOOK = "volplane.deliver_webhook"
SWEEP = "volplane.sweep"
HEARTBEAT = "volplane.heartbeat"
EXPUNGE_VOLUMES = "volplane.expunge_volumes"
