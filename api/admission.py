"""Group commit for admissions: concurrent submissions share one transaction.

While one batch is being written, new submissions queue up and go together in the
next one, so the batch size follows the load: one at a time when idle (no added
latency), dozens at a time under pressure (one commit and one fsync for all).
Messages for the recorded jobs are then sent in one go, after the answers.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from api.redis_publisher import AsyncRedisPublisher
from volplane.errors import JobUUIDConflict
from volplane.runtime import Runtime
from volplane.store.jobs import NewJob, Submission
from volplane.store.pg_admission import AsyncJobWriter

log = logging.getLogger("volplane.api")

MAX_BATCH = 256


class AdmissionBatcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        url = runtime.settings.resolved_database_url()
        # PostgreSQL batches are written and Redis messages published from the event
        # loop; SQLite and the SQLite broker are served from a thread.
        self._writer_pg = AsyncJobWriter(url) if url.startswith("postgresql") else None
        broker = runtime.settings.resolved_broker_url()
        self._publisher = (
            AsyncRedisPublisher(runtime.celery, broker) if broker.startswith("redis") else None
        )
        self._waiting: list[tuple[NewJob, asyncio.Future[Submission | JobUUIDConflict]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()  # the loop only keeps weak refs

    async def submit(self, new: NewJob) -> Submission:
        future: asyncio.Future[Submission | JobUUIDConflict] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((new, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        outcome = await future
        if isinstance(outcome, JobUUIDConflict):
            raise outcome
        return outcome

    async def _write_batches(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                outcomes = await self._record([new for new, _ in batch])
            except Exception as exc:  # the database is down: every caller hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            to_send = []
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
                if isinstance(outcome, Submission) and outcome.should_dispatch:
                    to_send.append(outcome.job_uuid)
            if to_send:
                task = asyncio.create_task(self._send(to_send))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _record(self, batch: list[NewJob]) -> list[Submission | JobUUIDConflict]:
        if self._writer_pg is not None:
            outcomes = await self._writer_pg.submit_many(batch)
            if outcomes is not None:
                return outcomes
            # A uuid collided with a concurrent gateway's: the exact, blocking path.
            return await run_in_threadpool(self.runtime.jobs.submit_each, batch)
        return await run_in_threadpool(self.runtime.jobs.submit_many, batch)

    async def close(self) -> None:
        if self._writer_pg is not None:
            await self._writer_pg.close()
        if self._publisher is not None:
            await self._publisher.close()

    async def _send(self, job_uuids: list[str]) -> None:
        try:
            if self._publisher is not None:
                await self._publisher.dispatch(job_uuids)
            else:
                await run_in_threadpool(self.runtime.dispatch, job_uuids)
        except Exception:
            log.warning(
                "broker unavailable; the sweeper will send the jobs",
                extra={"job_uuids": job_uuids},
            )
