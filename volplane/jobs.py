"""Pure job logic: states, what a poll answers, request identity and redaction.

Nothing here does I/O, so the rules of the job contract (CONTRACT §2) can be read
and tested in one place.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from volplane.errors import InvalidJobUUID, JobCancelled


class JobState(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
UNFINISHED_STATES = (JobState.PENDING.value, JobState.RUNNING.value)


class WebhookState(StrEnum):
    PENDING = "Pending"
    DELIVERED = "Delivered"
    GAVE_UP = "GaveUp"


_JOB_UUID = re.compile(r"^[0-9a-fA-F]{32}$")


def validate_job_uuid(value: str) -> str:
    """X-Job-UUID is a UUID of any version written as 32 hex digits (ZStack's server checks
    only its length; its SDKs send uuid4, other clients uuid1). Kept in lowercase."""
    if not _JOB_UUID.fullmatch(value):
        raise InvalidJobUUID(f"X-Job-UUID {value[:64]!r} is not a UUID as 32 hex digits")
    return value.lower()


def request_digest(
    *, method: str, path: str, body: dict[str, Any] | None, webhook_url: str | None
) -> str:
    """Identity of a request for idempotent replay: same digest, same job."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body, "webhook": webhook_url},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_SECRET_KEY = re.compile(r"(password|secret|token|credential)", re.IGNORECASE)
REDACTED = "*****"


def redact(value: Any) -> Any:
    """A copy of a request or result with every secret-looking field masked."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_KEY.search(str(key)) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def poll_status(state: JobState) -> int:
    """HTTP status of ``GET /v1/api-jobs/{uuid}`` for a job in ``state``."""
    if state is JobState.SUCCEEDED:
        return 200
    if state in (JobState.FAILED, JobState.CANCELLED):
        return 503
    return 202


def final_body(
    state: JobState, result: dict[str, Any] | None, error: dict[str, Any] | None
) -> dict[str, Any]:
    """The body a finished job answers to a poll and pushes to its webhook."""
    if state is JobState.SUCCEEDED:
        return result or {}
    if error is None:
        error = JobCancelled().to_body() if state is JobState.CANCELLED else {}
    return error


def is_expired(finish_date: datetime | None, now: datetime, retention_seconds: float) -> bool:
    return finish_date is not None and (now - finish_date).total_seconds() > retention_seconds
