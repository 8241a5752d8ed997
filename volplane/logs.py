"""Structured logs: one JSON object per line, with the job uuid when there is one."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# The job the current thread (or task) is running; every line logged meanwhile says so.
current_job_uuid: ContextVar[str | None] = ContextVar("current_job_uuid", default=None)


@contextmanager
def job_logging(job_uuid: str) -> Iterator[None]:
    """Tags every log line emitted inside the block with ``job_uuid``."""
    token = current_job_uuid.set(job_uuid)
    try:
        yield
    finally:
        current_job_uuid.reset(token)


class JobUUIDFilter(logging.Filter):
    """Adds ``job_uuid`` to records logged while a job runs (unless given explicitly)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_uuid = current_job_uuid.get()
        if job_uuid is not None and not hasattr(record, "job_uuid"):
            record.job_uuid = job_uuid
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(JobUUIDFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
