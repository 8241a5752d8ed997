"""When to try a webhook delivery again: a pure decision, like dramatiq's ``compute_backoff``.

The Celery task records the attempt, calls :func:`decide_after_attempt` and acts on the
answer: mark the delivery done, schedule the next attempt at ``RetryAt.when``, or stop.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from volplane.settings import Settings

# An attempt whose error starts with this never reached the network: the target address
# was refused by the SSRF guard. Retrying cannot help (it is a policy, not a fault).
REFUSED_PREFIX = "refused:"


@dataclass(frozen=True)
class RetryPolicy:
    """How quickly retries back off and when they stop."""

    first_retry_seconds: float = 2.0
    max_backoff_seconds: float = 3600.0
    give_up_seconds: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.first_retry_seconds <= self.max_backoff_seconds:
            raise ValueError("need 0 < first_retry_seconds <= max_backoff_seconds")
        if self.give_up_seconds < 0:
            raise ValueError("give_up_seconds must not be negative")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            first_retry_seconds=settings.webhook_first_retry_seconds,
            max_backoff_seconds=settings.webhook_max_backoff_seconds,
            give_up_seconds=settings.webhook_give_up_seconds,
        )


@dataclass(frozen=True)
class Delivered:
    """The receiver answered 2xx; nothing more to do."""


@dataclass(frozen=True)
class RetryAt:
    """Try again at ``when``."""

    when: datetime


@dataclass(frozen=True)
class GiveUp:
    """Stop retrying; ``reason`` is shown on the job."""

    reason: str


Decision = Delivered | RetryAt | GiveUp


def backoff_seconds(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Delay before attempt ``attempt + 1``, with ``attempt`` counted from 1.

    The ceiling doubles from ``first_retry_seconds`` up to ``max_backoff_seconds``; the delay
    is drawn from the upper half of it ("equal jitter"). Jitter spreads the retries of many
    jobs aimed at one receiver that just came back; keeping the lower half out means a
    receiver that has been failing for an hour is not hit again within seconds, as full
    jitter occasionally would.
    """
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    # min() on the exponent first, so a huge attempt number cannot overflow a float.
    ceiling = min(
        policy.max_backoff_seconds, policy.first_retry_seconds * 2 ** min(attempt - 1, 64)
    )
    return rng.uniform(ceiling / 2, ceiling)


def decide_after_attempt(
    *,
    attempt: int,
    status_code: int | None,
    error: str | None,
    first_attempt_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    """What to do after attempt number ``attempt`` (from 1) ended as given.

    2xx is delivered. 410 Gone and a refused target stop at once. Anything else — another
    status (3xx included, redirects are not followed), a timeout, a connection error — is
    retried with backoff, unless the next attempt would fall later than ``give_up_seconds``
    after the first one.
    """
    if status_code is not None and 200 <= status_code < 300:
        return Delivered()
    if status_code == 410:
        return GiveUp("410 Gone")
    if error is not None and error.startswith(REFUSED_PREFIX):
        return GiveUp(error)

    delay = backoff_seconds(attempt, policy, rng)
    when = now + timedelta(seconds=delay)
    if (when - first_attempt_at).total_seconds() > policy.give_up_seconds:
        last = f"status {status_code}" if status_code is not None else (error or "no answer")
        hours = policy.give_up_seconds / 3600
        return GiveUp(f"gave up after {attempt} attempts over {hours:g} h; last: {last}")
    return RetryAt(when)
