"""Recording admission batches in PostgreSQL from the gateway's event loop.

The thread-pool hop that SQLAlchemy's blocking session needs cost the gateway more
CPU per request than the SQL itself (threads contending for the GIL). psycopg's
asyncio connection writes a batch without leaving the loop: the same rules as
``JobStore.submit_many`` (``fresh_jobs``, ``blocked_jobs``, ``batch_outcomes``),
in one statement. A uuid collision hands the batch back
so the caller can take the exact, blocking path (``JobStore.submit_each``).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from schemas.tables import to_millisecond, utcnow
from volplane.db import closed_by_server
from volplane.errors import DatabaseUnavailable, JobUUIDConflict
from volplane.jobs import UNFINISHED_STATES
from volplane.store.jobs import (
    NewJob,
    Submission,
    batch_outcomes,
    fresh_jobs,
    job_row,
    secret_rows,
)

# The columns a batch supplies, with their PostgreSQL types.
_COLUMNS = {
    "uuid": "text",
    "account_uuid": "text",
    "api_name": "text",
    # JSON text inside the document, cast on insert: expanding a json field would
    # decode it, and a \u0000 in a client's string cannot become PostgreSQL text.
    "request": "text",
    "request_digest": "text",
    "resource_type": "text",
    "resource_uuid": "text",
    "sync_key": "text",
    "state": "text",
    "base_url": "text",
    "webhook_url": "text",
    "create_date": "timestamptz",
    "attempts": "int",
    "cancel_requested": "bool",
}
_NAMES = ", ".join(_COLUMNS)
_VALUES = ", ".join(f"{c}::json" if c == "request" else c for c in _COLUMNS)
# One statement, one round trip, whatever the batch size: the batch arrives as one
# JSON document, and the ordering rule (``blocked_jobs``: a job waits while its
# resource has unfinished work, in the table or earlier in the batch) is applied in
# SQL, so the statement needs no earlier answer. Rows are inserted in acceptance
# order, so ids keep it.
_INSERT_JOBS = f"""
WITH batch AS (
    SELECT b.*, row_number() OVER (PARTITION BY b.sync_key ORDER BY b.ord) AS nth
    FROM ROWS FROM (
        json_to_recordset(%(rows)s::json) AS ({", ".join(f"{c} {t}" for c, t in _COLUMNS.items())})
    ) WITH ORDINALITY AS b({_NAMES}, ord)
)
INSERT INTO api_jobs ({_NAMES}, dispatched_at)
SELECT {_VALUES}, CASE WHEN nth > 1 OR busy.found THEN NULL ELSE create_date END
FROM batch LEFT JOIN LATERAL (
    -- one index probe per job on (sync_key, id), whatever the backlog
    SELECT true AS found FROM api_jobs AS prior
    WHERE prior.sync_key = batch.sync_key AND prior.state = ANY(%(unfinished)s)
    LIMIT 1
) AS busy ON true
ORDER BY ord
RETURNING uuid, dispatched_at IS NULL
"""
_INSERT_SECRET = "INSERT INTO job_secrets (job_uuid, name, value) VALUES (%s, %s, %s)"
_KNOWN = "SELECT uuid, account_uuid, request_digest FROM api_jobs WHERE uuid = ANY(%s)"
_UNFINISHED = sorted(UNFINISHED_STATES)


def libpq_url(database_url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy's form) → what libpq accepts."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncJobWriter:
    """One connection, one batch at a time (the admission batcher never overlaps them)."""

    def __init__(self, database_url: str, *, connect_timeout: float = 5.0) -> None:
        self._url = libpq_url(database_url)
        self._connect_timeout = connect_timeout
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def _connection(self) -> tuple[psycopg.AsyncConnection[Any], bool]:
        """The connection, and whether it is new (made for this call)."""
        if self._conn is not None and not self._conn.closed:
            if not closed_by_server(self._conn.fileno()):
                return self._conn, False
            await self.close()  # the server restarted or ended it: make a new one
        self._conn = await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=int(self._connect_timeout)
        )
        return self._conn, True

    async def submit_many(self, batch: list[NewJob]) -> list[Submission | JobUUIDConflict] | None:
        """Records the batch; None when a uuid collided (nothing was written).

        A kept connection that breaks under the batch is replaced and the batch sent
        once more: if the first attempt did commit, its rows make the second collide,
        and the caller's exact path (``JobStore.submit_each``) finds them recorded.
        """
        try:
            conn, new = await self._connection()
            try:
                return await self._write(conn, batch)
            except psycopg.OperationalError:
                if new:
                    raise
                await self.close()
                conn, _ = await self._connection()
                return await self._write(conn, batch)
        except psycopg.OperationalError as exc:
            await self.close()
            raise DatabaseUnavailable(str(exc)[:200]) from exc

    async def _write(
        self, conn: psycopg.AsyncConnection[Any], batch: list[NewJob]
    ) -> list[Submission | JobUUIDConflict] | None:
        now = to_millisecond(utcnow())  # as UTCDateTime stores every other date
        chosen = [new.uuid for new in batch if new.uuid_from_client]
        try:
            known: dict[str, tuple[str, str]] = {}
            if chosen:
                rows = await (await conn.execute(_KNOWN, (chosen,))).fetchall()
                known = {row[0]: (row[1], row[2]) for row in rows}
            fresh = fresh_jobs(batch, known)
            blocked: set[str] = set()
            if fresh:
                secrets = secret_rows(fresh)
                # A single statement in autocommit mode is its own transaction.
                async with conn.transaction() if secrets else contextlib.nullcontext():
                    document = json.dumps(
                        [_document_row(new, now) for new in fresh.values()],
                        default=_iso,
                    )
                    cursor = await conn.execute(
                        _INSERT_JOBS, {"rows": document, "unfinished": _UNFINISHED}
                    )
                    blocked = {uuid for uuid, waits in await cursor.fetchall() if waits}
                    if secrets:
                        async with conn.cursor() as cursor:
                            await cursor.executemany(
                                _INSERT_SECRET,
                                [(s["job_uuid"], s["name"], s["value"]) for s in secrets],
                            )
        except psycopg.errors.UniqueViolation:
            return None
        return batch_outcomes(batch, known, fresh, blocked)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


def _document_row(new: NewJob, now: datetime) -> dict[str, Any]:
    row = job_row(new, now, dispatched=True)
    return {**row, "request": json.dumps(row["request"])}


def _iso(value: datetime) -> str:
    return value.isoformat()
