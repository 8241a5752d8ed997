"""One webhook delivery attempt: the only part of this package that does I/O.

Every attempt re-checks the target (:func:`check_webhook_target`) and then connects to an
address that check approved, not to whatever the name resolves to a moment later. That
closes the DNS-rebinding window between check and connect:

* ``http``: the request goes to ``http://<checked address>:<port>/...`` with the original
  ``Host`` header.
* ``https``: the same, plus httpcore's ``sni_hostname`` extension, so TLS sends the original
  name as SNI *and verifies the certificate against it*. Not covered: with a caller-supplied,
  long-lived ``client``, a pooled TLS connection to one address may be reused for another
  host name resolving to that same address; pass ``client=None`` (a client per attempt)
  where that matters. Proxies are never used (``trust_env=False``) since a proxy would
  resolve the name itself.

A refused target does not raise: it comes back as an :class:`AttemptOutcome` whose error
starts with ``"refused:"`` so that the caller records it like any other attempt, and
:func:`~workers.webhooks.backoff.decide_after_attempt` gives up on it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from client.signing import signature_headers
from volplane.errors import InvalidWebhookURL, WebhookTargetRefused
from volplane.webhook_targets import IPAddress, check_webhook_target
from workers.webhooks.backoff import REFUSED_PREFIX


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt got: a status, or an error string for an attempt with no answer."""

    status_code: int | None
    latency_ms: float
    error: str | None

    @property
    def refused(self) -> bool:
        return self.error is not None and self.error.startswith(REFUSED_PREFIX)


def build_webhook_headers(
    job_uuid: str,
    success: bool,
    secret: str,
    msg_id: str,
    timestamp: int,
    body: bytes,
) -> dict[str, str]:
    """All headers of one attempt (CONTRACT §2.4).

    ``msg_id`` must be the same for every attempt of one delivery (e.g. ``msg_<job uuid>``);
    ``timestamp`` is the attempt's own time, so call this again for each attempt.
    """
    return {
        "Content-Type": "application/json",
        "X-Job-UUID": job_uuid,
        "X-Job-Success": "true" if success else "false",
        **signature_headers(secret, msg_id, timestamp, body),
    }


def deliver_once(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    allow_networks: Sequence[str],
    client: httpx.Client | None = None,
) -> AttemptOutcome:
    """POSTs ``body`` to ``url`` once. Never raises for refusals or network failures.

    ``latency_ms`` covers the whole attempt, name resolution included, up to the response
    status line; the response body is not read. Redirects are reported, not followed.
    """
    started = time.perf_counter()

    def elapsed_ms() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        addresses = check_webhook_target(url, allow_networks)
    except (InvalidWebhookURL, WebhookTargetRefused) as exc:
        return AttemptOutcome(None, elapsed_ms(), f"{REFUSED_PREFIX} {exc.details}")

    try:
        original = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return AttemptOutcome(None, elapsed_ms(), f"{REFUSED_PREFIX} invalid URL: {exc}")
    request_headers = httpx.Headers(headers)  # case-insensitive: the lines below replace
    request_headers["Content-Type"] = "application/json"
    request_headers["Host"] = original.netloc.decode("ascii")
    extensions = {"sni_hostname": original.host} if original.scheme == "https" else {}

    owned = client is None
    http = client or httpx.Client(trust_env=False, follow_redirects=False)
    try:
        error = "no address"
        for address in addresses:
            try:
                status = _post(
                    http, _pinned(original, address), body, request_headers, extensions, timeout
                )
            except httpx.ConnectError as exc:
                # Another checked address of the same host may answer (e.g. IPv6 then IPv4).
                error = f"connect error: {exc or type(exc).__name__}"
                continue
            except httpx.TimeoutException as exc:
                return AttemptOutcome(None, elapsed_ms(), f"timeout: {_phase(exc)}")
            except httpx.ProtocolError as exc:
                return AttemptOutcome(
                    None, elapsed_ms(), f"protocol error: {exc or type(exc).__name__}"
                )
            except httpx.TransportError as exc:
                return AttemptOutcome(
                    None, elapsed_ms(), f"transport error: {exc or type(exc).__name__}"
                )
            return AttemptOutcome(status, elapsed_ms(), None)
        return AttemptOutcome(None, elapsed_ms(), error)
    finally:
        if owned:
            http.close()


def _pinned(original: httpx.URL, address: IPAddress) -> httpx.URL:
    return original.copy_with(host=str(address))


def _post(
    http: httpx.Client,
    url: httpx.URL,
    body: bytes,
    headers: httpx.Headers,
    extensions: dict[str, str],
    timeout: float,
) -> int:
    request = http.build_request(
        "POST", url, content=body, headers=headers, timeout=timeout, extensions=extensions
    )
    # stream=True and no read: a receiver cannot slow us down or fill memory with its body.
    response = http.send(request, stream=True, follow_redirects=False)
    try:
        return response.status_code
    finally:
        response.close()


def _phase(exc: httpx.TimeoutException) -> str:
    phases: dict[type[httpx.TimeoutException], str] = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "pool",
    }
    return phases.get(type(exc), "timeout")
