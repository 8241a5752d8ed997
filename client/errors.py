"""Errors the SDK raises. Every error from the server keeps its stable ``code``.

ClientError
├── TransportError              the server could not be reached (after retries)
├── JobWaitTimeout              a job did not end within the time the caller gave
└── ApiError                    the server answered with an error body
    ├── BadRequestError         400 (VOLPLANE.ARG.*)
    ├── AuthenticationError     401 (VOLPLANE.AUTH.*)
    ├── PermissionDeniedError   403
    ├── NotFoundError           404
    ├── ConflictError           409
    ├── JobUUIDConflictError    422 (an X-Job-UUID reused for another request)
    ├── ServerError             5xx answered by a call itself (a bug on the server)
    └── JobFailedError          a job ended Failed (503 on its poll)
        └── JobCancelledError   a job ended Cancelled
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every error the SDK raises."""


class TransportError(ClientError):
    """The server could not be reached, even after retrying."""


class JobWaitTimeout(ClientError):
    """The job was still unfinished when the caller's deadline passed."""

    def __init__(self, job_uuid: str, state: str, progress: int | None) -> None:
        super().__init__(f"job {job_uuid} is still {state} (progress {progress})")
        self.job_uuid = job_uuid
        self.state = state
        self.progress = progress


class ApiError(ClientError):
    """The server answered with a ZStack error body."""

    def __init__(self, status: int, body: dict[str, Any], *, job_uuid: str | None = None) -> None:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        assert isinstance(error, dict)
        self.status = status
        self.body = body
        self.code: str = str(error.get("code") or "VOLPLANE.SYS.1000")
        self.description: str = str(error.get("description") or "")
        self.details: str = str(error.get("details") or self.description)
        self.job_uuid = job_uuid
        super().__init__(f"{self.code}: {self.details}")


class BadRequestError(ApiError):
    pass


class AuthenticationError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class JobUUIDConflictError(ApiError):
    pass


class ServerError(ApiError):
    pass


class JobFailedError(ApiError):
    """The job ended in failure; ``code`` is why (e.g. ``VOLPLANE.RESOURCE.1001``)."""


class JobCancelledError(JobFailedError):
    pass


CANCELLED_CODE = "VOLPLANE.JOB.1003"

_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: BadRequestError,
    409: ConflictError,
    422: JobUUIDConflictError,
}


def error_for(status: int, body: Any) -> ApiError:
    """The typed error for a synchronous error answer."""
    if not isinstance(body, dict):
        body = {"error": {"code": "VOLPLANE.SYS.1000", "details": str(body)[:500]}}
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return cls(status, body)


def job_error(job_uuid: str, body: dict[str, Any]) -> JobFailedError:
    """The typed error for a job that ended Failed or Cancelled."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    cls = JobCancelledError if error.get("code") == CANCELLED_CODE else JobFailedError
    return cls(503, body, job_uuid=job_uuid)
