"""TikTok-Signature (TIKTOK-API.md §7): `t=<unix>,s=<hex>` where s = hex(HMAC-SHA256(client_secret,
f"{t}." + raw_body)), compared in constant time, t within 300 s of now. Anything unsigned, forged, stale or
signed with another secret is a 401 before anything else happens. Pure.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from tiktok_publisher.webhooks.envelope import WebhookRejected

SIGNATURE_HEADER = "tiktok-signature"
TOLERANCE_S = 300


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header value, case-insensitively (payload 2.0 lower-cases names; other sources may not)."""
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_signature(value: str | None) -> tuple[int, list[str]]:
    """`t=<unix>,s=<hex>[,s=<hex>]` -> (t, signatures). WebhookRejected(401) when absent or malformed."""
    if not value:
        raise WebhookRejected(401, "unsigned", "The TikTok-Signature header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and item.strip().isdigit() and len(item.strip()) <= 12:
            timestamp = int(item.strip())
        elif key == "s" and item.strip():
            signatures.append(item.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRejected(401, "bad_signature", "The TikTok-Signature header is malformed.")
    return timestamp, signatures


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, f"{timestamp}." + body))."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(
    body: bytes, signature_header: str | None, secret: str, *, now: float, tolerance_s: int = TOLERANCE_S
) -> int:
    """Check the signature of `body`; returns its timestamp or raises WebhookRejected(401)."""
    timestamp, signatures = parse_signature(signature_header)
    expected = expected_signature(secret, timestamp, body).encode()
    # Every candidate is compared (no early exit) so timing does not tell which one was close.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise WebhookRejected(401, "bad_signature", "The signature does not match.")
    # Checked after the MAC: the timestamp is only meaningful once it is known to be TikTok's.
    if abs(now - timestamp) > tolerance_s:
        raise WebhookRejected(401, "stale", "The signature timestamp is outside the allowed window.")
    return timestamp
