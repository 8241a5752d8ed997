import base64
from collections.abc import Callable

import pytest

from client.signing import (
    WebhookVerificationError,
    new_secret,
    sign,
    signature_headers,
    verify,
)

# The test vector published with the Standard Webhooks specification and its libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = 1_700_000_000
BODY = b'{"state":"Succeeded"}'

Change = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]


def test_sign_reproduces_the_standard_webhooks_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_the_standard_webhooks_vector() -> None:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_signed_headers_round_trip() -> None:
    secret = new_secret()
    headers = signature_headers(secret, "msg_1", NOW, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-timestamp"] == str(NOW)
    verify(secret, headers, BODY, now=NOW + 10)


def test_header_names_are_case_insensitive() -> None:
    secret = new_secret()
    headers = {k.title(): v for k, v in signature_headers(secret, "msg_1", NOW, BODY).items()}
    verify(secret, headers, BODY, now=NOW)


def test_secret_without_prefix_signs_the_same() -> None:
    bare = VECTOR_SECRET.removeprefix("whsec_")
    assert sign(bare, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, b: (h, b + b" "), "no matching signature"),
        (lambda h, b: ({**h, "webhook-id": "msg_2"}, b), "no matching signature"),
        (lambda h, b: ({**h, "webhook-timestamp": str(NOW - 301)}, b), "too old"),
        (lambda h, b: ({**h, "webhook-timestamp": str(NOW + 301)}, b), "future"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not an integer"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-signature": ""}, b), "missing"),
        (lambda h, b: ({**h, "webhook-signature": "v1,not-base64!"}, b), "no matching"),
        (lambda h, b: ({**h, "webhook-signature": "v2," + h["webhook-signature"][3:]}, b), "no"),
    ],
    ids=[
        "tampered body",
        "other id",
        "stale timestamp",
        "future timestamp",
        "garbage timestamp",
        "missing id",
        "empty signature",
        "malformed signature",
        "unknown version",
    ],
)
def test_verify_refuses(change: Change, message: str) -> None:
    secret = new_secret()
    headers, body = change(signature_headers(secret, "msg_1", NOW, BODY), BODY)
    with pytest.raises(WebhookVerificationError, match=message):
        verify(secret, headers, body, now=NOW)


def test_verify_refuses_another_secret() -> None:
    headers = signature_headers(new_secret(), "msg_1", NOW, BODY)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(new_secret(), headers, BODY, now=NOW)


def test_any_of_several_signatures_may_match() -> None:
    # A sender rotating its secret signs with the old and the new one.
    old, new = new_secret(), new_secret()
    both = f"{sign(old, 'msg_1', NOW, BODY)} {sign(new, 'msg_1', NOW, BODY)}"
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": both}
    verify(old, headers, BODY, now=NOW)
    verify(new, headers, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), headers, BODY, now=NOW)


def test_tolerance_is_configurable() -> None:
    secret = new_secret()
    headers = signature_headers(secret, "msg_1", NOW, BODY)
    verify(secret, headers, BODY, now=NOW + 3000, tolerance_seconds=3600)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(secret, headers, BODY, now=NOW + 3000)


def test_malformed_secret_is_a_value_error_when_signing() -> None:
    with pytest.raises(ValueError):
        sign("whsec_not base64!", "msg_1", NOW, BODY)
