"""Webhooks to the SaaS (docs/webhooks.md): the event catalogue, endpoints, deliveries, the retry policy and
the Standard Webhooks signature. Pure: the standard library only.

Signatures follow https://www.standardwebhooks.com (the `standardwebhooks` package verifies them in the
tests): `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")>`,
where the secret is the base64 part of `whsec_<base64>`. Several signatures, space-separated, let a receiver
keep working while a rotated secret reaches it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tiktok_publisher.domain.events import DetailType

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64 random bytes
# A rotated-out secret still signs for this long, so receivers can roll their configuration without a gap.
PREVIOUS_SECRET_GRACE_S = 24 * 3600

# webhook type (what a receiver sees in `type`) -> the bus's detail-type (docs/events.md)
EVENT_TYPES: dict[str, str] = {
    "post.published": DetailType.POST_PUBLISHED,
    "post.sent_to_inbox": DetailType.POST_SENT_TO_INBOX,
    "post.failed": DetailType.POST_FAILED,
    "account.connected": DetailType.ACCOUNT_CONNECTED,
    "account.disconnected": DetailType.ACCOUNT_DISCONNECTED,
    "account.needs_reconnect": DetailType.ACCOUNT_NEEDS_RECONNECT,
    "webhook_endpoint.disabled": DetailType.WEBHOOK_ENDPOINT_DISABLED,
}
TYPE_OF_DETAIL: dict[str, str] = {detail: name for name, detail in EVENT_TYPES.items()}

# Growing waits between attempts (the Standard Webhooks / Svix schedule): the first attempt at once, then
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over 27 h 40 min, so a receiver down for a day still
# gets everything. Every wait fits SQS's 12 h visibility ceiling.
RETRY_DELAYS_S: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
# An endpoint whose every attempt failed for this long is disabled (new deliveries stop; replay after
# re-enabling). Any success resets the clock.
DISABLE_AFTER_FAILING_S = 5 * 24 * 3600
# The delivery log keeps a message this long (DynamoDB TTL).
DELIVERY_RETENTION_S = 30 * 24 * 3600
ATTEMPTS_KEPT = 20


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    """pending (not tried yet) -> retrying -> succeeded | failed (retries exhausted) | skipped (endpoint gone
    or disabled before the attempt)."""

    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


OPEN_DELIVERY = frozenset({DeliveryStatus.PENDING, DeliveryStatus.RETRYING})


def iso(epoch: float) -> str:
    """ISO-8601 UTC, second precision (what the API and payloads show)."""
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Endpoint:
    """A URL of one tenant and the event types it receives. Secrets are sealed blobs, opened only to sign."""

    tenant_id: str
    endpoint_id: str
    url: str
    event_types: list[str]
    status: EndpointStatus
    created_at: float
    updated_at: float
    secret_enc: bytes
    description: str = ""
    previous_secret_enc: bytes | None = None
    previous_secret_until: float | None = None
    failing_since: float | None = None
    disabled_at: float | None = None
    disabled_reason: str | None = None
    version: int = 0

    def wants(self, event_type: str) -> bool:
        """Whether a message of `event_type` goes to this endpoint now."""
        return self.status is EndpointStatus.ENABLED and event_type in self.event_types

    def to_api(self) -> dict[str, Any]:
        """The public view: never a secret, sealed or not."""
        return {
            "endpoint_id": self.endpoint_id,
            "url": self.url,
            "description": self.description,
            "event_types": sorted(self.event_types),
            "status": str(self.status),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "failing_since": iso(self.failing_since) if self.failing_since else None,
            "disabled_at": iso(self.disabled_at) if self.disabled_at else None,
            "disabled_reason": self.disabled_reason,
        }


@dataclass
class Attempt:
    """One try at sending a message: what the receiver answered (or why nothing was sent) and how long."""

    number: int
    at: float
    status_code: int | None
    latency_ms: int
    error: str | None = None
    replay: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at,
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "replay": self.replay,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Attempt:
        code = raw.get("status_code")
        return cls(
            number=int(raw.get("number") or 0),
            at=float(raw.get("at") or 0),
            status_code=int(code) if code is not None else None,
            latency_ms=int(raw.get("latency_ms") or 0),
            error=raw.get("error"),
            replay=bool(raw.get("replay")),
        )

    def to_api(self) -> dict[str, Any]:
        return {**self.to_dict(), "at": iso(self.at)}


@dataclass
class Delivery:
    """One message for one endpoint, and every attempt at it. `cycle` counts replays: a replay starts a new
    cycle of retries, and a queued message of an older cycle is ignored."""

    tenant_id: str
    endpoint_id: str
    message_id: str
    event_type: str
    payload: str  # the exact body sent (and signed) on every attempt
    group: str
    status: DeliveryStatus
    created_at: float
    updated_at: float
    attempt_count: int = 0
    cycle: int = 0
    cycle_attempts: int = 0
    next_attempt_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else None
        return {
            "message_id": self.message_id,
            "endpoint_id": self.endpoint_id,
            "event_type": self.event_type,
            "status": str(self.status),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "attempt_count": self.attempt_count,
            "next_attempt_at": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "last_status_code": last.status_code if last else None,
            "last_latency_ms": last.latency_ms if last else None,
            "attempts": [a.to_api() for a in self.attempts],
            "payload": json.loads(self.payload),
        }


# ---------------------------------------------------------------------- messages and ordering


def payload_for(event_type: str, occurred_at: str, detail: Mapping[str, Any]) -> str:
    """The JSON body of a message (Standard Webhooks' {type, timestamp, data}), compact and stable."""
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at, "data": dict(detail)},
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=False,
    )


def ordering_group(event_type: str, detail: Mapping[str, Any]) -> str:
    """What a message must stay in order with: its post, its account or its endpoint."""
    if event_type.startswith("post.") and detail.get("post_id"):
        return f"post:{detail['post_id']}"
    if event_type.startswith("account.") and detail.get("open_id"):
        return f"account:{detail['open_id']}"
    if detail.get("endpoint_id"):
        return f"endpoint:{detail['endpoint_id']}"
    return "tenant"


def queue_group_id(tenant_id: str, endpoint_id: str, group: str) -> str:
    """The SQS FIFO MessageGroupId: one ordered lane per endpoint and post/account (SQS allows 128 chars)."""
    raw = f"{tenant_id}|{endpoint_id}|{group}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def message_id_for(event_id: str, occurred_at_ms: int) -> str:
    """`msg_` + a ULID made from the bus event's time and id: the same event always gets the same id (so a
    redelivered event is recognised), and ids sort by time (the delivery log reads newest first)."""
    entropy = int.from_bytes(hashlib.sha256(event_id.encode("utf-8")).digest()[:10], "big")
    value = (max(0, occurred_at_ms) & ((1 << 48) - 1)) << 80 | entropy
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "msg_" + "".join(reversed(chars))


# ---------------------------------------------------------------------- retries


def retry_delay(cycle_attempts: int) -> int | None:
    """Seconds to wait after the `cycle_attempts`-th failed attempt of a cycle; None: give up."""
    if cycle_attempts < 1 or cycle_attempts > len(RETRY_DELAYS_S):
        return None
    return RETRY_DELAYS_S[cycle_attempts - 1]


def should_disable(endpoint: Endpoint, now: float) -> bool:
    """An endpoint that has failed every attempt for DISABLE_AFTER_FAILING_S is switched off."""
    return (
        endpoint.status is EndpointStatus.ENABLED
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= DISABLE_AFTER_FAILING_S
    )


# ---------------------------------------------------------------------- secrets and signatures


class InvalidSecret(ValueError):
    """Not a `whsec_<base64>` secret of a usable length."""


def new_secret() -> str:
    """A fresh `whsec_...` secret (32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("a webhook secret is base64 after whsec_") from None
    if not 24 <= len(key) <= 64:
        raise InvalidSecret("a webhook secret holds 24 to 64 bytes")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body` for these headers."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in `secrets` (current first)."""
    if not secrets:
        raise InvalidSecret("no secret to sign with")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in secrets),
    }


# ---------------------------------------------------------------------- queue message and transport answer


@dataclass(frozen=True)
class DeliveryMessage:
    """What the delivery queue carries: a pointer to the delivery row (the row is the state)."""

    tenant_id: str
    endpoint_id: str
    message_id: str
    cycle: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {"t": self.tenant_id, "e": self.endpoint_id, "m": self.message_id, "c": self.cycle},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> DeliveryMessage:
        """ValueError on anything that is not a message this code wrote."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("not a delivery message")
        tenant, endpoint, message, cycle = raw.get("t"), raw.get("e"), raw.get("m"), raw.get("c", 0)
        if not (isinstance(tenant, str) and isinstance(endpoint, str) and isinstance(message, str)):
            raise ValueError("not a delivery message")
        if not (tenant and endpoint and message) or not isinstance(cycle, int) or isinstance(cycle, bool):
            raise ValueError("not a delivery message")
        return cls(tenant_id=tenant, endpoint_id=endpoint, message_id=message, cycle=cycle)

    @property
    def dedup_id(self) -> str:
        """SQS FIFO deduplication: the same message of the same cycle is enqueued once per 5 minutes."""
        return hashlib.sha256(
            f"{self.tenant_id}|{self.endpoint_id}|{self.message_id}|{self.cycle}".encode()
        ).hexdigest()


@dataclass(frozen=True)
class TransportResult:
    """What one HTTP attempt gave: a status code, or an error class when no answer came."""

    status_code: int | None
    latency_ms: int
    error: str | None = None
