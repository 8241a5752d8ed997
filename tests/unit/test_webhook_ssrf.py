import ipaddress
from collections.abc import Callable

import pytest

from volplane.errors import InvalidWebhookURL, WebhookTargetRefused
from volplane.webhook_targets import (
    check_webhook_target,
    classify_address,
    parse_ip_literal,
    validate_webhook_url,
)

LOOPBACK_ALLOWED = ("127.0.0.0/8",)
EVERYTHING = ("0.0.0.0/0", "::/0")


# --- validate_webhook_url: syntax only ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/volplane",
        "http://hooks.example.com:8080/a/b?c=d",
        "HTTPS://Example.COM/",
        "http://[2001:db8::1]:8443/x",
        "http://127.0.0.1/",  # syntax is fine; the address check is separate
    ],
)
def test_valid_urls_pass_unchanged(url: str) -> None:
    assert validate_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("/relative/path", "http or https"),
        ("hooks.example.com/x", "http or https"),
        ("ftp://example.com/", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("http:///nohost", "no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://example.com:port/", "not a valid URL"),
        ("http://example.com:0/", "invalid port"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com/\r\nX-Injected: 1", "whitespace"),
        ("http://[::1/", "not a valid URL"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_invalid_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(InvalidWebhookURL, match=reason) as caught:
        validate_webhook_url(url)
    assert caught.value.code == "VOLPLANE.ARG.1005"


# --- classify_address: the decision -----------------------------------------------------


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("::ffff:169.254.169.254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:169.254.0.1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:a9fe:a9fe::", "metadata"),  # 6to4 of 169.254.169.254
        ("::a9fe:a9fe", "reserved"),  # deprecated IPv4-compatible form
    ],
)
def test_always_refused_even_when_everything_is_allowed(address: str, reason: str) -> None:
    refused = classify_address(ip(address), EVERYTHING)
    assert refused is not None
    assert reason in refused


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("::ffff:10.1.2.3", "private"),
        ("100.64.0.1", "shared"),
        ("100.127.255.255", "shared"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_non_global_refused_without_allow_list(address: str, reason: str) -> None:
    refused = classify_address(ip(address), ())
    assert refused is not None
    assert reason in refused
    assert "allow-list" in refused


@pytest.mark.parametrize(
    ("address", "allow"),
    [
        ("127.0.0.1", LOOPBACK_ALLOWED),
        ("127.8.9.10", LOOPBACK_ALLOWED),
        ("::ffff:127.0.0.1", LOOPBACK_ALLOWED),  # judged as the IPv4 address it carries
        ("::1", ("::1/128",)),
        ("10.20.30.40", ("10.0.0.0/8",)),
        ("192.168.7.7", ("192.168.7.0/24",)),
        ("100.64.1.1", ("100.64.0.0/10",)),
        ("fd12:3456::1", ("fd12:3456::/32",)),
        ("10.0.0.1", EVERYTHING),
    ],
)
def test_allow_list_opens_loopback_and_private(address: str, allow: tuple[str, ...]) -> None:
    assert classify_address(ip(address), allow) is None


@pytest.mark.parametrize(
    ("address", "allow"),
    [
        ("10.0.0.1", LOOPBACK_ALLOWED),
        ("192.168.8.1", ("192.168.7.0/24",)),
        ("::1", LOOPBACK_ALLOWED),  # an IPv4 allow-list does not open IPv6 loopback
    ],
)
def test_allow_list_opens_only_what_it_lists(address: str, allow: tuple[str, ...]) -> None:
    assert classify_address(ip(address), allow) is not None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "1.1.1.1", "64:ff9b::808:808"]
)
def test_global_addresses_are_allowed(address: str) -> None:
    assert classify_address(ip(address), ()) is None


def test_bad_allow_list_entry_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        classify_address(ip("10.0.0.1"), ("not-a-network",))


# --- IP literals in odd spellings -----------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("2852039166", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe"),
        ("::1", "::1"),
        ("example.com", None),
        ("1e100.net", None),
        ("deadbeef", None),
    ],
)
def test_parse_ip_literal(host: str, expected: str | None) -> None:
    parsed = parse_ip_literal(host)
    assert (str(parsed) if parsed is not None else None) == expected


# --- check_webhook_target: resolution + every address ----------------------------------


def fixed(*addresses: str) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1:8080/",
        "http://0177.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://127.0.0.1/",
        "http://[::1]/",
    ],
)
def test_loopback_spellings_refused_without_allow_list(url: str) -> None:
    with pytest.raises(WebhookTargetRefused, match="loopback") as caught:
        check_webhook_target(url, ())
    assert caught.value.code == "VOLPLANE.ARG.1006"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",
        "http://0xa9fea9fe/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_metadata_and_link_local_refused_even_with_everything_allowed(url: str) -> None:
    with pytest.raises(WebhookTargetRefused):
        check_webhook_target(url, EVERYTHING)


def test_literal_loopback_allowed_by_allow_list_returns_normalised_address() -> None:
    assert check_webhook_target("http://[::ffff:127.0.0.1]:9/", LOOPBACK_ALLOWED) == [
        ip("127.0.0.1")
    ]


def test_every_resolved_address_must_pass() -> None:
    # A name with one public and one private answer is refused: a later connect may pick either.
    with pytest.raises(WebhookTargetRefused, match=r"10\.0\.0\.7"):
        check_webhook_target(
            "https://hooks.example.com/", (), resolver=fixed("93.184.216.34", "10.0.0.7")
        )


def test_resolved_addresses_are_returned_deduplicated() -> None:
    addresses = check_webhook_target(
        "https://hooks.example.com/",
        (),
        resolver=fixed("93.184.216.34", "93.184.216.34", "::ffff:93.184.216.34", "2606:4700::1"),
    )
    assert addresses == [ip("93.184.216.34"), ip("2606:4700::1")]


def test_resolver_gets_host_and_default_port() -> None:
    seen: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        seen.append((host, port))
        return ["93.184.216.34"]

    check_webhook_target("https://Hooks.Example.com/x", (), resolver=resolve)
    check_webhook_target("http://hooks.example.com:8080/x", (), resolver=resolve)
    assert seen == [("hooks.example.com", 443), ("hooks.example.com", 8080)]


def test_unresolvable_host_is_refused_with_the_reason() -> None:
    with pytest.raises(WebhookTargetRefused, match=r"cannot resolve webhook host 'nx\.invalid'"):
        check_webhook_target("http://nx.invalid/", EVERYTHING)


def test_empty_resolution_is_refused() -> None:
    with pytest.raises(WebhookTargetRefused, match="no address"):
        check_webhook_target("http://hooks.example.com/", (), resolver=fixed())


def test_malformed_url_is_invalid_not_refused() -> None:
    with pytest.raises(InvalidWebhookURL):
        check_webhook_target("ftp://example.com/", EVERYTHING)
