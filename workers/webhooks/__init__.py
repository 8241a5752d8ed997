"""Webhook delivery (CONTRACT §2.4): signing, the SSRF guard, retry decisions, one attempt.

Everything but :mod:`workers.webhooks.delivery` is pure; the Celery task that loads a job,
calls these and saves the attempt lives with the job engine.
"""

from client.signing import (
    WebhookVerificationError,
    new_secret,
    sign,
    signature_headers,
    verify,
)
from volplane.webhook_targets import (
    check_webhook_target,
    classify_address,
    parse_ip_literal,
    validate_webhook_url,
)
from workers.webhooks.backoff import (
    REFUSED_PREFIX,
    Decision,
    Delivered,
    GiveUp,
    RetryAt,
    RetryPolicy,
    backoff_seconds,
    decide_after_attempt,
)
from workers.webhooks.delivery import AttemptOutcome, build_webhook_headers, deliver_once

__all__ = [
    "REFUSED_PREFIX",
    "AttemptOutcome",
    "Decision",
    "Delivered",
    "GiveUp",
    "RetryAt",
    "RetryPolicy",
    "WebhookVerificationError",
    "backoff_seconds",
    "build_webhook_headers",
    "check_webhook_target",
    "classify_address",
    "decide_after_attempt",
    "deliver_once",
    "new_secret",
    "parse_ip_literal",
    "sign",
    "signature_headers",
    "validate_webhook_url",
    "verify",
]
