"""Hearing that a job ended, from PostgreSQL, instead of asking for it over and over.

A trigger (migration 0006) sends the job's uuid on ``volplane_job_ended`` when its
state becomes final, delivered only when that transaction commits, so whoever hears
it reads the final state. The gateway keeps one listening connection and wakes the
long-polls waiting on that job. While the connection is down, every waiter is woken
and falls back to polling until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import psycopg

from volplane.store.pg_admission import libpq_url

log = logging.getLogger("volplane.api")

JOB_ENDED_CHANNEL = "volplane_job_ended"
APPLICATION = "volplane-job-ends"  # how the connection shows in pg_stat_activity


class JobEndListener:
    """Wakes ``watch`` events when the job they watch ends.

    ``listening`` says whether a wake can be relied on; when it is False a waiter
    must poll. The connection is made on the first ``watch``, not at start-up, so a
    gateway that nobody long-polls holds no extra connection.
    """

    def __init__(self, database_url: str, *, retry_seconds: float = 1.0) -> None:
        self._url = libpq_url(database_url)
        self._retry_seconds = retry_seconds
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    @contextlib.contextmanager
    def watch(self, job_uuid: str) -> Iterator[asyncio.Event]:
        """An event set when ``job_uuid`` may have ended (or the listener dropped).

        Clear it before reading the job: a wake that comes after the read is kept.
        """
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen())
        event = asyncio.Event()
        self._watchers.setdefault(job_uuid, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._watchers.get(job_uuid)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._watchers[job_uuid]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=5, application_name=APPLICATION
                ) as conn:
                    await conn.execute(f"LISTEN {JOB_ENDED_CHANNEL}")
                    self.listening = True
                    async for notice in conn.notifies():
                        self._wake(self._watchers.get(notice.payload, ()))
            except Exception as exc:  # whatever broke the connection: listen again soon
                log.warning("job end listener lost its connection: %s", str(exc)[:200])
            finally:
                self.listening = False
                # Waiters may have missed an end: they read again, then poll.
                self._wake([event for events in self._watchers.values() for event in events])
            await asyncio.sleep(self._retry_seconds)

    @staticmethod
    def _wake(events: Any) -> None:
        for event in list(events):
            event.set()
