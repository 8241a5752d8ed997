"""The I/O-free part of the SDK, shared by the sync and async clients: building
requests, reading answers and job polls, retry pacing, and decoding Server-Sent Events."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from client.errors import ApiError, error_for, job_error


def sha512_hex(password: str) -> str:
    """What ZStack logins send instead of the password (the server never sees it plain)."""
    return hashlib.sha512(password.encode()).hexdigest()


# The last event of a finished stream: do not reconnect.
END_EVENT = "end"
FINAL_STATES = frozenset({"Succeeded", "Failed", "Cancelled"})
QueryValue = str | int | bool | list[str] | None

# Errors after which re-sending the very same request (same X-Job-UUID) is safe: the
# server either never got it, or recorded it and will answer the replay with the same job.
RETRYABLE: tuple[type[Exception], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)


def new_job_uuid() -> str:
    """A client-chosen job id: a v4 UUID as 32 lowercase hex digits."""
    return uuid.uuid4().hex


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...)."""
    return float(min(5.0, 0.2 * 2 ** (attempt - 1)))


def headers_for(
    method: str, session: str | None, *, job_uuid: str | None, webhook: str | None
) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if session:
        headers["Authorization"] = f"OAuth {session}"
    if method.upper() != "GET" and job_uuid:
        headers["X-Job-UUID"] = job_uuid
    if webhook:
        headers["X-Web-Hook"] = webhook
    return headers


def query_params(
    *,
    q: Iterable[str] | str | None = None,
    limit: int | None = None,
    start: int | None = None,
    sort: str | None = None,
    fields: Iterable[str] | None = None,
    count: bool = False,
    reply_with_count: bool = False,
) -> list[tuple[str, str]]:
    """Query-language parameters (CONTRACT §4) as ordered pairs (``q`` repeats)."""
    pairs: list[tuple[str, str]] = []
    for condition in [q] if isinstance(q, str) else q or []:
        pairs.append(("q", condition))
    if limit is not None:
        pairs.append(("limit", str(limit)))
    if start is not None:
        pairs.append(("start", str(start)))
    if sort:
        pairs.append(("sort", sort))
    if fields:
        pairs.append(("fields", ",".join(fields)))
    if count:
        pairs.append(("count", "true"))
    if reply_with_count:
        pairs.append(("replyWithCount", "true"))
    return pairs


def to_query(params: list[tuple[str, str]] | dict[str, Any] | None) -> httpx.QueryParams | None:
    if not params:
        return None
    if isinstance(params, dict):
        return httpx.QueryParams({key: str(value) for key, value in params.items()})
    return httpx.QueryParams([(key, str(value)) for key, value in params])


def decode(response: httpx.Response) -> Any:
    """The JSON body of a synchronous answer, or the typed error it carries."""
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise error_for(response.status_code, body)
    return body


def is_accepted(response: httpx.Response, body: Any) -> bool:
    return response.status_code == 202 and isinstance(body, dict) and "location" in body


@dataclass(frozen=True)
class JobStatus:
    """One observation of a job, from a poll or an event."""

    uuid: str
    state: str
    progress: int | None
    result: dict[str, Any] | None = None
    error: ApiError | None = None

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES


ProgressCallback = Callable[[JobStatus], None]


def read_poll(job_uuid: str, response: httpx.Response) -> JobStatus:
    """Interprets ``GET /v1/api-jobs/{uuid}`` (CONTRACT §2.2)."""
    if response.status_code == 202:
        body = response.json()
        return JobStatus(job_uuid, str(body.get("state")), body.get("progress"))
    if response.status_code == 200:
        return JobStatus(job_uuid, "Succeeded", 100, result=response.json())
    if response.status_code == 503:
        error = job_error(job_uuid, response.json())
        state = "Cancelled" if error.code == "VOLPLANE.JOB.1003" else "Failed"
        return JobStatus(job_uuid, state, None, error=error)
    raise error_for(response.status_code, decode_quietly(response))


def decode_quietly(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def wait_step(remaining: float | None, *, with_progress: bool) -> float:
    """How long one long-poll should hold: short when someone watches the progress."""
    step = 1.0 if with_progress else 20.0
    if remaining is not None:
        step = min(step, max(0.0, remaining))
    return step


def job_uuid_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


# --- Server-Sent Events ----------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event; ``data`` is the decoded JSON payload."""

    id: str | None
    event: str
    data: Any

    @property
    def status(self) -> JobStatus:
        """The job state this event reports (events of the job streams)."""
        data = self.data if isinstance(self.data, dict) else {}
        error = data.get("error")
        return JobStatus(
            str(data.get("uuid")),
            str(data.get("state")),
            data.get("progress"),
            error=ApiError(503, {"error": error}) if isinstance(error, dict) else None,
        )


@dataclass
class EventDecoder:
    """Turns the lines of an ``text/event-stream`` body into events (WHATWG rules)."""

    last_event_id: str | None = None
    _data: list[str] = field(default_factory=list)
    _event: str = ""

    def feed(self, line: str) -> Event | None:
        if line == "":
            if not self._data:
                self._event = ""
                return None
            raw = "\n".join(self._data)
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw
            event = Event(self.last_event_id, self._event or "message", data)
            self._data, self._event = [], ""
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        return None
