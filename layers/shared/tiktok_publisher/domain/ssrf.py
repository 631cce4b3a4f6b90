"""Which URLs and addresses a webhook may be sent to (server-side request forgery guard). Pure.

A tenant chooses the URL, so a URL is a request to make our function connect somewhere. It may only reach
the public internet: the check runs on the URL (https, no credentials, a host name or public IP) and again
on every address its host resolves to, at registration and before every attempt; the sender then connects to
the address that was checked, so a DNS answer that changes in between (DNS rebinding) changes nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from tiktok_publisher.domain.errors import InvalidInput

MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(InvalidInput):
    """The URL (or an address it resolves to) is not allowed as a webhook target. 422 at registration."""

    code = "unsafe_url"


@dataclass(frozen=True)
class TargetPolicy:
    """`allow_http` and `allow_loopback` exist for the local stack only (Settings refuses them elsewhere)."""

    allow_http: bool = False
    allow_loopback: bool = False


@dataclass(frozen=True)
class WebhookUrl:
    """A parsed webhook URL: what to resolve, and what to send in the request line and Host header."""

    url: str
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    target: str  # path and query, as sent in the request line
    host_header: str


def parse_url(url: str, policy: TargetPolicy) -> WebhookUrl:
    """Check the URL's shape; UnsafeUrl says what is wrong. Addresses are checked after resolution."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"The URL must be 1 to {MAX_URL_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeUrl("The URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if scheme not in allowed:
        raise UnsafeUrl("The URL must use https.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("The URL may not carry credentials (user:password@).")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("The URL has no host.")
    if parts.fragment:
        raise UnsafeUrl("The URL may not have a #fragment.")
    literal = ip_literal(host)
    if literal is None and not _valid_hostname(host):
        raise UnsafeUrl("The URL's host is not a valid host name.")
    if literal is not None:
        check_address(literal, policy)
    port = port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if scheme == "https" else 80
    shown = f"[{host}]" if literal is not None and literal.version == 6 else host
    return WebhookUrl(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        target=target,
        host_header=shown if port == default_port else f"{shown}:{port}",
    )


def ip_literal(host: str) -> IPAddress | None:
    """The address when `host` is an IP literal (IPv6 zone ids refused), else None."""
    if "%" in host:
        raise UnsafeUrl("The URL's host may not carry an IPv6 zone.")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _valid_hostname(host: str) -> bool:
    if len(host) > 253:
        return False
    labels = host.split(".")
    return (
        all(
            0 < len(label) <= 63
            and label[0] != "-"
            and label[-1] != "-"
            and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
            for label in labels
        )
        and not labels[-1].isdigit()
    )  # "1.2.3" or "0x7f.1" are numeric hosts some resolvers accept


def check_address(address: IPAddress, policy: TargetPolicy) -> None:
    """UnsafeUrl unless `address` is a public unicast address (or loopback where the policy allows it)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if mapped is not None:
            check_address(mapped, policy)
            return
        if address in _NAT64_LOCAL or address.sixtofour is not None or address.teredo is not None:
            raise UnsafeUrl("The URL resolves to a tunnelled address, which is not allowed.")
    if address.is_loopback:
        if policy.allow_loopback:
            return
        raise UnsafeUrl("The URL resolves to a loopback address, which is not allowed.")
    if (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_link_local
        or address.is_private
    ):
        raise UnsafeUrl(
            "The URL resolves to a private, link-local or reserved address, which is not allowed."
        )


def choose_address(addresses: list[str], policy: TargetPolicy) -> str:
    """The address to connect to: every resolved address must pass (a mixed answer is refused), the first
    one is used. UnsafeUrl when there is none or any one fails."""
    if not addresses:
        raise UnsafeUrl("The URL's host does not resolve.")
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            raise UnsafeUrl("The URL's host resolves to something that is not an address.") from None
        if "%" in raw:
            raise UnsafeUrl("The URL resolves to a scoped (link-local) address, which is not allowed.")
        check_address(address, policy)
    return addresses[0]
