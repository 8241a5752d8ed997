"""Webhook attempts against a real HTTP receiver on 127.0.0.1 (tests/receiver.py)."""

import json
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.receiver import Receiver, redirect, slow
from workers.webhooks import (
    AttemptOutcome,
    Delivered,
    GiveUp,
    RetryAt,
    RetryPolicy,
    build_webhook_headers,
    decide_after_attempt,
    deliver_once,
    new_secret,
    verify,
)

pytestmark = pytest.mark.integration

LOOPBACK = ("127.0.0.0/8",)
JOB_UUID = "0f8fad5bd9cb469fa16570867728950e"
BODY = json.dumps({"uuid": JOB_UUID, "state": "Succeeded"}).encode()
POLICY = RetryPolicy(first_retry_seconds=2, max_backoff_seconds=3600, give_up_seconds=86400)


SECRET = new_secret()


def attempt(
    url: str,
    *,
    secret: str = SECRET,
    timeout: float = 5.0,
    allow_networks: Sequence[str] = LOOPBACK,
    client: httpx.Client | None = None,
) -> AttemptOutcome:
    """One attempt as the delivery task makes it: fresh timestamp, stable message id."""
    headers = build_webhook_headers(
        JOB_UUID, True, secret, f"msg_{JOB_UUID}", int(time.time()), BODY
    )
    return deliver_once(
        url, BODY, headers, timeout=timeout, allow_networks=allow_networks, client=client
    )


def test_delivered_with_contract_headers_and_a_verifiable_signature() -> None:
    secret = new_secret()
    with Receiver([200]) as receiver:
        outcome = attempt(receiver.url, secret=secret)
        (request,) = receiver.wait_for(1)

    assert outcome.status_code == 200
    assert outcome.error is None
    assert outcome.latency_ms > 0
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.body == BODY
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-job-uuid"] == JOB_UUID
    assert request.headers["x-job-success"] == "true"
    assert request.headers["webhook-id"] == f"msg_{JOB_UUID}"
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    verify(secret, request.headers, request.body)


def test_failed_job_says_so() -> None:
    headers = build_webhook_headers(JOB_UUID, False, new_secret(), "msg_x", 1, BODY)
    assert headers["X-Job-Success"] == "false"


def test_500_500_200_is_retry_retry_delivered_with_a_stable_id() -> None:
    # Given a receiver failing twice, when we follow the backoff decisions,
    # then the third attempt is delivered and every attempt carried the same webhook-id.
    rng = random.Random(3)
    first = now = datetime(2024, 1, 1, tzinfo=UTC)
    decisions = []
    with Receiver([500, 500, 200]) as receiver:
        for number in range(1, 4):
            outcome = attempt(receiver.url)
            decisions.append(
                decide_after_attempt(
                    attempt=number,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    first_attempt_at=first,
                    now=now,
                    policy=POLICY,
                    rng=rng,
                )
            )
            now += timedelta(seconds=10)
        requests = receiver.wait_for(3)

    assert [type(d) for d in decisions] == [RetryAt, RetryAt, Delivered]
    assert [r.status for r in requests] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in requests}) == 1


def test_410_gives_up() -> None:
    with Receiver([410]) as receiver:
        outcome = attempt(receiver.url)
    assert outcome.status_code == 410
    decision = decide_after_attempt(
        attempt=1,
        status_code=outcome.status_code,
        error=outcome.error,
        first_attempt_at=datetime.now(UTC),
        now=datetime.now(UTC),
        policy=POLICY,
        rng=random.Random(0),
    )
    assert decision == GiveUp("410 Gone")


def test_redirect_is_reported_not_followed() -> None:
    with Receiver([200]) as target, Receiver([redirect(target.url)]) as redirector:
        outcome = attempt(redirector.url)
        redirector.wait_for(1)
        assert target.requests == []
    assert outcome.status_code == 302
    assert outcome.error is None


def test_slow_receiver_times_out() -> None:
    with Receiver([slow(10)]) as receiver:
        outcome = attempt(receiver.url, timeout=0.5)
    assert outcome.status_code is None
    assert outcome.error == "timeout: read"


def test_closed_port_is_a_connect_error() -> None:
    with Receiver() as receiver:
        url = receiver.url
    outcome = attempt(url)
    assert outcome.status_code is None
    assert outcome.error is not None
    assert outcome.error.startswith("connect error:")


def test_loopback_without_allow_list_is_refused_before_connecting() -> None:
    with Receiver([200]) as receiver:
        outcome = attempt(receiver.url, allow_networks=())
        assert receiver.requests == []
    assert outcome.status_code is None
    assert outcome.refused
    assert outcome.error is not None
    assert "loopback" in outcome.error


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
    ],
)
def test_metadata_address_refused_even_when_everything_is_allowed(url: str) -> None:
    outcome = attempt(url, allow_networks=("0.0.0.0/0", "::/0"))
    assert outcome.refused
    assert outcome.error is not None
    assert "metadata" in outcome.error


def test_hostname_is_resolved_checked_and_pinned_with_original_host_header() -> None:
    with Receiver([200]) as receiver:
        outcome = attempt(
            receiver.url_for("/hook", host="localhost"), allow_networks=(*LOOPBACK, "::1/128")
        )
        (request,) = receiver.wait_for(1)
    assert outcome.status_code == 200
    assert request.headers["host"] == f"localhost:{receiver.port}"


def test_a_caller_supplied_client_is_used_and_left_open() -> None:
    with Receiver([204]) as receiver, httpx.Client() as client:
        outcome = attempt(receiver.url, client=client)
        assert not client.is_closed
    assert outcome.status_code == 204


def test_pinning_rewrites_the_url_and_keeps_name_for_host_and_tls() -> None:
    # Given a transport that records instead of sending, when a named https host is
    # delivered to, then the request goes to the checked address, while Host and SNI
    # carry the name (so the certificate is verified against the name).
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(record)) as client:
        outcome = attempt(
            "https://localhost:8443/x", client=client, allow_networks=(*LOOPBACK, "::1/128")
        )

    assert outcome.status_code == 200
    (request,) = seen
    assert request.url.host in {"127.0.0.1", "::1"}
    assert request.url.port == 8443
    assert request.headers["host"] == "localhost:8443"
    assert request.extensions["sni_hostname"] == "localhost"
