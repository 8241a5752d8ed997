"""The operation table: commands keyed by an operation id, each run at most once.

A worker that died and is replaced sends the same command with the same id again
and attaches to the running (or finished) operation instead of redoing it. Finished
records are journaled to ``<journal_dir>/<op_id>.json`` so that holds across agent
restarts too. Both are bounded: read-only commands are never journaled and are
forgotten ``READ_ONLY_RETENTION_SECONDS`` after they end; the others are forgotten,
in memory and in the journal, ``retention_seconds`` after they end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from drivers.agent.commands import COMMANDS, Command, Context
from drivers.agent.pools import ConnectedPools
from schemas.agent import (
    CLOCK_SKEW_SECONDS,
    OP_ID_PATTERN,
    OperationRecord,
    OperationState,
    StartOperation,
)
from volplane.errors import (
    AgentTimeout,
    Conflict,
    InvalidParameter,
    JobCancelled,
    ResourceNotFound,
    UnknownAction,
    VolplaneError,
)

log = logging.getLogger(__name__)

# Long enough for the client that started a read-only command to read its answer.
READ_ONLY_RETENTION_SECONDS = 60.0


class Operation:
    """One operation's live state; ``changed`` wakes long-polls on every change,
    ``ended`` only on the end."""

    def __init__(self, record: OperationRecord, *, read_only: bool = False) -> None:
        self.record = record
        self.read_only = read_only
        self.ended_at: float | None = None  # when it ended, by the table's clock
        self.cancel_requested = threading.Event()
        self.cancelled_by_client = False
        self.changed = asyncio.Event()
        self.ended = asyncio.Event()
        if self.finished:
            self.ended.set()

    @property
    def finished(self) -> bool:
        return self.record.state.finished

    def update(self, **changes: Any) -> None:
        self.record = self.record.model_copy(update=changes)
        if self.finished:
            self.ended.set()
        self.changed.set()
        self.changed = asyncio.Event()

    def set_progress(self, percent: int) -> None:
        if not self.finished and percent != self.record.progress:
            self.update(progress=percent)


def _error_body(exc: VolplaneError) -> dict[str, Any]:
    body: dict[str, Any] = exc.to_body()["error"]
    return body


class OperationTable:
    def __init__(
        self,
        *,
        journal_dir: Path,
        pools: ConnectedPools,
        commands: dict[str, Command] = COMMANDS,
        retention_seconds: float = 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._journal_dir = journal_dir
        self._retention = retention_seconds
        self._clock = clock
        self._pools = pools
        self._commands = commands
        self._ops: dict[str, Operation] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        journal_dir.mkdir(parents=True, exist_ok=True)

    def start(self, op_id: str, request: StartOperation) -> Operation:
        """Starts the command, or answers the operation already holding this id."""
        _check_op_id(op_id)
        command = self._commands.get(request.command)
        if command is None:
            raise UnknownAction(f"unknown agent command {request.command!r}")
        try:
            args = command.args_model.model_validate(request.args)
        except ValidationError as exc:
            raise InvalidParameter(f"{request.command}: {exc}") from exc
        wire_args = args.wire()
        self.prune()
        existing = self._find(op_id)
        if existing is not None:
            record = existing.record
            if (record.command, record.args) != (request.command, wire_args):
                raise Conflict(f"operation {op_id} exists with a different command or arguments")
            return existing
        if request.not_after is not None and time.time() > request.not_after + CLOCK_SKEW_SECONDS:
            raise AgentTimeout(
                f"operation {op_id} reached the agent after its sender stopped waiting; not started"
            )
        op = Operation(
            OperationRecord(
                op_id=op_id, command=request.command, args=wire_args, state=OperationState.RUNNING
            ),
            read_only=command.read_only,
        )
        self._ops[op_id] = op
        task = asyncio.get_running_loop().create_task(self._run(op, command, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return op

    def get(self, op_id: str) -> Operation:
        _check_op_id(op_id)
        op = self._find(op_id)
        if op is None:
            raise ResourceNotFound(f"no operation {op_id}")
        return op

    def cancel(self, op_id: str) -> Operation:
        """Asks a running operation to stop; commands that cannot stop just finish."""
        op = self.get(op_id)
        op.cancelled_by_client = True
        op.cancel_requested.set()
        return op

    async def wait(
        self, op: Operation, timeout: float, *, progress_every: float = 0.0
    ) -> OperationRecord:
        """The record once it changes, the operation ends, or ``timeout`` passes.

        With ``progress_every`` a mere progress change answers no sooner than that many
        seconds after the wait began, while the end still answers at once: a client
        relaying progress makes a few round trips a second, not one per percent.
        """
        if op.finished or timeout <= 0:
            return op.record
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if progress_every > 0:
            seen = op.record.progress
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(op.ended.wait(), min(progress_every, timeout))
            if op.finished or op.record.progress != seen:
                return op.record
        left = deadline - loop.time()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(op.changed.wait(), left)
        return op.record

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stops running operations so they remove what they half made."""
        self._closing = True
        for op in self._ops.values():
            op.cancel_requested.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)

    async def _run(self, op: Operation, command: Command, args: Any) -> None:
        loop = asyncio.get_running_loop()

        def report_progress(percent: int) -> None:
            # Called from the command's thread; the record belongs to the event loop.
            loop.call_soon_threadsafe(op.set_progress, percent)

        context = Context(
            pools=self._pools,
            report_progress=report_progress,
            cancel_requested=op.cancel_requested.is_set,
            cancel=op.cancel_requested.set,
        )
        end: dict[str, Any]
        try:
            result = await asyncio.to_thread(command.handler, context, args)
        except JobCancelled as exc:
            if self._closing and not op.cancelled_by_client:
                # Stopped by the agent's shutdown, not by a client: left unrecorded so a
                # repeated command after the restart does the work.
                return
            end = {"state": OperationState.CANCELLED, "error": _error_body(exc)}
        except VolplaneError as exc:
            end = {"state": OperationState.FAILED, "error": _error_body(exc)}
        except Exception as exc:
            log.exception("operation %s (%s) failed unexpectedly", op.record.op_id, command.name)
            end = {"state": OperationState.FAILED, "error": _error_body(VolplaneError(repr(exc)))}
        else:
            end = {"state": OperationState.SUCCEEDED, "progress": 100, "result": result.wire()}
        try:
            # Journaled before anyone hears of the end (a repeated command after a crash
            # gets this result, not a second run); in a thread, so polls go on meanwhile.
            if not command.read_only:
                await asyncio.to_thread(self._journal, op.record.model_copy(update=end))
        except OSError:
            log.exception("could not journal operation %s", op.record.op_id)
        op.ended_at = self._clock()
        op.update(**end)

    def prune(self) -> None:
        """Forgets the finished operations whose retention has passed."""
        now = self._clock()
        for op_id, op in list(self._ops.items()):
            if op.ended_at is None:
                if not op.finished:
                    continue
                op.ended_at = now  # read back from the journal: kept a retention more
            keep = READ_ONLY_RETENTION_SECONDS if op.read_only else self._retention
            if now - op.ended_at > keep:
                del self._ops[op_id]

    def prune_journal(self) -> int:
        """Removes journal records older than the retention; how many went."""
        cutoff = self._clock() - self._retention
        removed = 0
        for path in self._journal_dir.glob("*.json"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    def _find(self, op_id: str) -> Operation | None:
        op = self._ops.get(op_id)
        if op is None:
            record = self._read_journal(op_id)
            if record is not None:
                op = self._ops[op_id] = Operation(record)
        return op

    def _journal(self, record: OperationRecord) -> None:
        path = self._journal_dir / f"{record.op_id}.json"
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump(record.wire(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def _read_journal(self, op_id: str) -> OperationRecord | None:
        path = self._journal_dir / f"{op_id}.json"
        try:
            return OperationRecord.model_validate_json(path.read_text())
        except FileNotFoundError:
            return None


def _check_op_id(op_id: str) -> None:
    # The id names a journal file, so it must never carry a path separator.
    if not OP_ID_PATTERN.match(op_id):
        raise InvalidParameter(f"invalid operation id {op_id!r}")
