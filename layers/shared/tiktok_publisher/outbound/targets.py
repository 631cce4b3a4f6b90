"""Where a webhook URL may lead: parse it, resolve its host once, check every address (domain/ssrf.py)."""

from __future__ import annotations

from tiktok_publisher.domain.ssrf import (
    TargetPolicy,
    UnsafeUrl,
    WebhookUrl,
    choose_address,
    ip_literal,
    parse_url,
)
from tiktok_publisher.ports import WebhookTransport

__all__ = ["UnsafeUrl", "resolve_target"]


def resolve_target(url: str, transport: WebhookTransport, policy: TargetPolicy) -> tuple[WebhookUrl, str]:
    """The parsed URL and the one checked address to connect to; UnsafeUrl otherwise."""
    parsed = parse_url(url, policy)
    literal = ip_literal(parsed.host)
    if literal is not None:
        return parsed, str(literal)
    return parsed, choose_address(transport.resolve(parsed.host, parsed.port), policy)
