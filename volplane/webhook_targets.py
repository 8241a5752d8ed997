"""Keeps webhook deliveries away from addresses a user must not reach through us.

Two checks, because they run at different times:

* :func:`validate_webhook_url` — syntax only, no I/O; the gateway runs it on ``X-Web-Hook``.
* :func:`check_webhook_target` — resolves the host and checks *every* address it resolves
  to; run at submission and again before every attempt, since DNS answers change.

:func:`classify_address` is the decision itself, a pure function. Some addresses are refused
even when an allow-list covers them (cloud metadata, link-local, unspecified, multicast,
broadcast, reserved): no deployment needs its webhooks to reach those, and a broad
allow-list such as ``0.0.0.0/0`` must not open them. Loopback, private, shared (CGNAT) and
any other non-global address is refused unless an allow-listed network contains it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import SplitResult, urlsplit

from volplane.errors import InvalidWebhookURL, WebhookTargetRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Iterable[str]]

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # Linux routes these to the local host.
BROADCAST = ipaddress.IPv4Address("255.255.255.255")
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def validate_webhook_url(url: str) -> str:
    """Checks that ``url`` is an absolute http(s) URL we are willing to POST to.

    Returns the URL unchanged; raises :class:`InvalidWebhookURL` with the reason.
    """
    _parse_url(url)
    return url


def _parse_url(url: str) -> SplitResult:
    if not isinstance(url, str) or not url:
        raise InvalidWebhookURL("X-Web-Hook is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookURL(f"X-Web-Hook is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidWebhookURL("X-Web-Hook contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhookURL(f"X-Web-Hook is not a valid URL: {exc}") from exc
    if parts.scheme not in DEFAULT_PORTS:
        raise InvalidWebhookURL("X-Web-Hook must use http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidWebhookURL("X-Web-Hook must not carry credentials (user:password@)")
    if not parts.hostname:
        raise InvalidWebhookURL("X-Web-Hook has no host")
    if port == 0:
        raise InvalidWebhookURL("X-Web-Hook has an invalid port")
    return parts


def classify_address(address: IPAddress, allow_networks: Sequence[str]) -> str | None:
    """Why ``address`` must not be contacted, or ``None`` if it may be.

    IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry, and an IPv4
    address embedded by NAT64 or 6to4 must pass too, since that is where packets end up.
    """
    address = _unmap(address)
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = classify_address(embedded, allow_networks)
        if reason is not None:
            return f"{reason} (embedded in {address})"
        if address in NAT64_PREFIX:
            return None  # a NAT64 gateway reaches exactly the IPv4 address just approved
    reason = _always_refused(address)
    if reason is not None:
        return reason
    if any(address in network for network in _networks(allow_networks)):
        return None
    if address.is_loopback:
        return "loopback address not in the webhook allow-list"
    if address.is_private:
        return "private address not in the webhook allow-list"
    if isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network(
        "100.64.0.0/10"
    ):
        return "shared (carrier-grade NAT) address not in the webhook allow-list"
    if not address.is_global:
        return "non-global address not in the webhook allow-list"
    return None


def _always_refused(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return "cloud metadata address"
    if address.is_unspecified or address in THIS_NETWORK:
        return "unspecified address"
    if address.is_link_local:
        return "link-local address"
    if address.is_multicast:
        return "multicast address"
    if address == BROADCAST:
        return "broadcast address"
    if address.is_reserved and not address.is_loopback:  # ::1 sits in the reserved ::/8
        return "reserved address"
    return None


def _unmap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _networks(allow_networks: Sequence[str]) -> list[IPNetwork]:
    # A bad CIDR is a configuration mistake; ValueError tells the operator at once.
    return [ipaddress.ip_network(cidr, strict=False) for cidr in allow_networks]


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form the C resolver accepts, else ``None``.

    ``0x7f.1``, ``2130706433`` and ``0177.0.0.1`` all mean 127.0.0.1 to ``inet_aton``
    (and so to the socket layer httpx ends up in); we judge them as that address.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not all(ch in "0123456789abcdefxABCDEFX." for ch in host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_webhook_target(
    url: str,
    allow_networks: Sequence[str],
    *,
    resolver: Resolver | None = None,
) -> list[IPAddress]:
    """Resolves the URL's host and returns its addresses if every one of them is allowed.

    Raises :class:`InvalidWebhookURL` for a malformed URL and :class:`WebhookTargetRefused`
    when the host does not resolve or any address it resolves to is refused; one bad
    address is enough, as we cannot tell which one a later connection would pick.
    ``resolver(host, port)`` replaces ``getaddrinfo`` (tests).
    """
    parts = _parse_url(url)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    literal = parse_ip_literal(host)
    if literal is not None:
        candidates: list[IPAddress] = [literal]
    else:
        resolve = resolver or _system_resolver
        try:
            resolved = list(resolve(host, port))
        except (OSError, UnicodeError) as exc:
            raise WebhookTargetRefused(f"cannot resolve webhook host {host!r}: {exc}") from exc
        # Zone ids (fe80::1%eth0) are dropped; the address alone decides.
        candidates = [ipaddress.ip_address(text.split("%", 1)[0]) for text in resolved]
        if not candidates:
            raise WebhookTargetRefused(f"webhook host {host!r} resolves to no address")

    addresses: list[IPAddress] = []
    for candidate in candidates:
        reason = classify_address(candidate, allow_networks)
        if reason is not None:
            raise WebhookTargetRefused(f"webhook host {host!r} resolves to {candidate}: {reason}")
        unmapped = _unmap(candidate)
        if unmapped not in addresses:
            addresses.append(unmapped)
    return addresses
