import random
from datetime import UTC, datetime, timedelta

import pytest

from volplane.settings import Settings
from workers.webhooks.backoff import (
    Delivered,
    GiveUp,
    RetryAt,
    RetryPolicy,
    backoff_seconds,
    decide_after_attempt,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
POLICY = RetryPolicy(first_retry_seconds=2, max_backoff_seconds=3600, give_up_seconds=24 * 3600)


def decide(
    *,
    attempt: int = 1,
    status_code: int | None = None,
    error: str | None = None,
    now: datetime = START,
    policy: RetryPolicy = POLICY,
    seed: int = 0,
) -> Delivered | RetryAt | GiveUp:
    return decide_after_attempt(
        attempt=attempt,
        status_code=status_code,
        error=error,
        first_attempt_at=START,
        now=now,
        policy=policy,
        rng=random.Random(seed),
    )


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert decide(status_code=status) == Delivered()


def test_410_gone_stops_at_once() -> None:
    assert decide(status_code=410) == GiveUp("410 Gone")
    assert decide(attempt=7, status_code=410, now=START + timedelta(hours=3)) == GiveUp("410 Gone")


def test_refused_target_stops_at_once() -> None:
    decision = decide(error="refused: webhook host 'x' resolves to 10.0.0.1: private address")
    assert isinstance(decision, GiveUp)
    assert decision.reason.startswith("refused:")


@pytest.mark.parametrize(
    ("status_code", "error"),
    [
        (500, None),
        (503, None),
        (404, None),
        (400, None),
        (429, None),
        (301, None),  # redirects are not followed, so they are failures
        (302, None),
        (None, "timeout: read"),
        (None, "connect error: [Errno 111] Connection refused"),
        (None, "protocol error: Server disconnected"),
        (None, None),
    ],
)
def test_other_outcomes_are_retried_within_seconds(
    status_code: int | None, error: str | None
) -> None:
    decision = decide(status_code=status_code, error=error)
    assert isinstance(decision, RetryAt)
    assert START + timedelta(seconds=1) <= decision.when <= START + timedelta(seconds=2)


def test_delays_double_up_to_the_cap_with_bounded_jitter() -> None:
    rng = random.Random(42)
    delays = [backoff_seconds(attempt, POLICY, rng) for attempt in range(1, 21)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(3600, 2 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    # Below the cap, a delay is never shorter than the one two attempts before it
    # (each ceiling's lower half is the previous ceiling).
    growing = delays[:12]
    assert all(later >= earlier for earlier, later in zip(growing, growing[2:], strict=False))
    assert max(delays) <= 3600
    assert delays[-1] >= 1800


def test_jitter_spreads_retries() -> None:
    delays = {round(backoff_seconds(5, POLICY, random.Random(seed)), 6) for seed in range(50)}
    assert len(delays) > 40


def test_same_seed_same_schedule() -> None:
    first = [backoff_seconds(n, POLICY, random.Random(7)) for n in range(1, 10)]
    again = [backoff_seconds(n, POLICY, random.Random(7)) for n in range(1, 10)]
    assert first == again


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert 1800 <= backoff_seconds(10_000, POLICY, random.Random(0)) <= 3600


def test_a_receiver_that_never_answers_is_given_up_after_the_horizon() -> None:
    # Given a receiver failing every attempt, when we follow the schedule,
    # then every retry stays inside 24 h and the last decision gives up.
    rng = random.Random(1)
    now, attempt, schedule = START, 1, []
    while True:
        decision = decide_after_attempt(
            attempt=attempt,
            status_code=503,
            error=None,
            first_attempt_at=START,
            now=now,
            policy=POLICY,
            rng=rng,
        )
        if not isinstance(decision, RetryAt):
            break
        schedule.append(decision.when)
        now, attempt = decision.when, attempt + 1

    assert isinstance(decision, GiveUp)
    assert "status 503" in decision.reason
    assert all(when <= START + timedelta(hours=24) for when in schedule)
    assert schedule[-1] > START + timedelta(hours=22)  # it kept trying until near the end
    assert 25 < attempt < 60


def test_retry_that_would_pass_the_horizon_gives_up() -> None:
    late = START + timedelta(hours=24) - timedelta(seconds=1)
    decision = decide(attempt=3, error="timeout: connect", now=late)
    assert isinstance(decision, GiveUp)
    assert "timeout: connect" in decision.reason


def test_a_success_after_the_horizon_still_counts() -> None:
    assert decide(attempt=40, status_code=200, now=START + timedelta(days=2)) == Delivered()


def test_policy_from_settings() -> None:
    settings = Settings(
        webhook_first_retry_seconds=1,
        webhook_max_backoff_seconds=60,
        webhook_give_up_seconds=600,
    )
    assert RetryPolicy.from_settings(settings) == RetryPolicy(1, 60, 600)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(first_retry_seconds=0)
    with pytest.raises(ValueError):
        RetryPolicy(first_retry_seconds=10, max_backoff_seconds=5)
    with pytest.raises(ValueError):
        backoff_seconds(0, POLICY, random.Random(0))
