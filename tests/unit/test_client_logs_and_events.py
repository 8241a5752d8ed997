"""Pure parts of the observability work: job uuids on log lines, SSE decoding, and the
version rules of the job event stream."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

from api.routes.events import changes, format_version, parse_version, version_of
from client._core import EventDecoder, query_params, read_poll
from volplane.logs import JobUUIDFilter, JsonFormatter, job_logging
from volplane.store.observe import JobSnapshot


def test_every_line_logged_during_a_job_carries_its_uuid() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(JobUUIDFilter())
    log = logging.getLogger("test.job-lines")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("before")
        with job_logging("a" * 32):
            log.info("inside")
            log.info("explicit", extra={"job_uuid": "b" * 32})
        log.info("after")
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("job_uuid") for line in lines] == [None, "a" * 32, "b" * 32, None]


def test_event_decoder_follows_the_sse_rules() -> None:
    decoder = EventDecoder()
    events = []
    text = (
        "retry: 1000\n\n: keepalive\n\n"
        'id: 1.1.5\nevent: progress\ndata: {"a": 1}\n\n'
        "event: end\ndata: {}\n\n"
    )
    for line in text.split("\n"):
        event = decoder.feed(line)
        if event is not None:
            events.append(event)
    assert [(e.id, e.event, e.data) for e in events] == [
        ("1.1.5", "progress", {"a": 1}),
        ("1.1.5", "end", {}),
    ]
    assert decoder.last_event_id == "1.1.5"


def test_query_params_repeat_q() -> None:
    assert query_params(q=["a=1", "b=2"], limit=5, sort="-createDate", count=True) == [
        ("q", "a=1"),
        ("q", "b=2"),
        ("limit", "5"),
        ("sort", "-createDate"),
        ("count", "true"),
    ]


def snapshot(
    state: str, *, attempts: int = 0, progress: int | None = None, started: bool = False
) -> JobSnapshot:
    now = datetime.now(UTC)
    return JobSnapshot(
        uuid="c" * 32,
        api_name="X",
        state=state,
        progress=progress,
        attempts=attempts,
        resource_type=None,
        resource_uuid=None,
        account_uuid="d" * 32,
        create_date=now,
        start_date=now if started else None,
        finish_date=now if state == "Succeeded" else None,
        error=None,
        cancel_requested=False,
    )


def test_versions_grow_through_a_requeue() -> None:
    path = [
        snapshot("Pending"),
        snapshot("Running", attempts=1, progress=10, started=True),
        snapshot("Pending", attempts=1, progress=10, started=True),  # worker lost, requeued
        snapshot("Running", attempts=2, progress=0, started=True),
        snapshot("Succeeded", attempts=2, progress=100, started=True),
    ]
    versions = [version_of(s) for s in path]
    assert versions == sorted(versions)
    assert all(parse_version(format_version(v)) == v for v in versions)
    assert parse_version("garbage") is None


def test_a_run_seen_only_at_its_end_is_reported_as_running_first() -> None:
    pending = snapshot("Pending")
    done = snapshot("Succeeded", attempts=1, progress=100, started=True)
    first = changes(None, None, pending)
    assert [(kind, job.state) for kind, _, job in first] == [("state", "Pending")]
    later = changes(first[-1][1], "Pending", done)
    assert [(kind, job.state) for kind, _, job in later] == [
        ("state", "Running"),
        ("state", "Succeeded"),
    ]
    assert changes(later[-1][1], "Succeeded", done) == []


def test_read_poll_maps_the_three_answers() -> None:
    import httpx

    accepted = httpx.Response(202, json={"state": "Running", "progress": 3, "location": "x"})
    assert read_poll("j", accepted).state == "Running"
    done = read_poll("j", httpx.Response(200, json={"inventory": {}}))
    assert done.done and done.result == {"inventory": {}}
    body = {"error": {"code": "VOLPLANE.JOB.1003", "details": "cancelled"}}
    cancelled = read_poll("j", httpx.Response(503, json=body))
    assert cancelled.state == "Cancelled" and cancelled.error is not None
    assert cancelled.error.code == "VOLPLANE.JOB.1003"
