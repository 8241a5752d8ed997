"""Pure job rules: X-Job-UUID format, request identity, redaction, poll answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from volplane.errors import InvalidJobUUID
from volplane.jobs import (
    REDACTED,
    JobState,
    final_body,
    is_expired,
    poll_status,
    redact,
    request_digest,
    validate_job_uuid,
)


@pytest.mark.parametrize(
    "value", [uuid.uuid4().hex, uuid.uuid1().hex, uuid.uuid5(uuid.NAMESPACE_DNS, "x").hex]
)
def test_accepts_any_uuid_version_as_32_hex_digits(value: str) -> None:
    assert validate_job_uuid(value) == value


def test_upper_case_hex_is_kept_in_lower_case() -> None:
    value = uuid.uuid1().hex
    assert validate_job_uuid(value.upper()) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * 32,
        str(uuid.uuid4()),
        uuid.uuid4().hex + "0",
        uuid.uuid4().hex[:31],
        "g" + uuid.uuid4().hex[1:],
        uuid.uuid4().hex + "\n",
    ],
)
def test_rejects_anything_else(value: str) -> None:
    with pytest.raises(InvalidJobUUID):
        validate_job_uuid(value)


def test_digest_ignores_key_order_but_not_content() -> None:
    a = request_digest(method="post", path="/v1/zones", body={"a": 1, "b": 2}, webhook_url=None)
    b = request_digest(method="POST", path="/v1/zones", body={"b": 2, "a": 1}, webhook_url=None)
    assert a == b
    assert a != request_digest(method="POST", path="/v1/zones", body={"a": 1}, webhook_url=None)
    assert a != request_digest(
        method="POST", path="/v1/zones", body={"a": 1, "b": 2}, webhook_url="http://h/x"
    )
    assert a != request_digest(
        method="PUT", path="/v1/zones", body={"a": 1, "b": 2}, webhook_url=None
    )


def test_redact_masks_secret_fields_at_any_depth() -> None:
    request = {
        "params": {
            "name": "h",
            "agentToken": "t0p",
            "nested": [{"password": "p"}],
            "passwordHash": "scrypt$x",
            "secretKey": None,
        }
    }
    shown = redact(request)
    assert shown["params"]["name"] == "h"
    assert shown["params"]["agentToken"] == REDACTED
    assert shown["params"]["nested"][0]["password"] == REDACTED
    assert shown["params"]["passwordHash"] == REDACTED
    assert shown["params"]["secretKey"] is None
    assert request["params"]["agentToken"] == "t0p"  # the original is untouched


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (JobState.PENDING, 202),
        (JobState.RUNNING, 202),
        (JobState.SUCCEEDED, 200),
        (JobState.FAILED, 503),
        (JobState.CANCELLED, 503),
    ],
)
def test_poll_status_table(state: JobState, status: int) -> None:
    assert poll_status(state) == status


def test_final_bodies() -> None:
    assert final_body(JobState.SUCCEEDED, None, None) == {}
    assert final_body(JobState.SUCCEEDED, {"inventory": {}}, None) == {"inventory": {}}
    error = {"error": {"code": "VOLPLANE.X.0001"}}
    assert final_body(JobState.FAILED, None, error) == error
    assert final_body(JobState.CANCELLED, None, None)["error"]["code"] == "VOLPLANE.JOB.1003"


def test_expiry() -> None:
    now = datetime.now(UTC)
    assert not is_expired(None, now, 10)
    assert not is_expired(now - timedelta(seconds=5), now, 10)
    assert is_expired(now - timedelta(seconds=11), now, 10)
