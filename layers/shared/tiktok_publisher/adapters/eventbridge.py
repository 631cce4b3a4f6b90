"""EventPublisher: domain events out to the SaaS on EventBridge (EVENT_BUS_NAME, Source "tiktok-publisher").

Events leave our trust boundary, so a detail that carries anything token-shaped (a sensitive key name or a
value that looks like a token, JWT, bearer credential, OAuth code or signed URL) is refused before sending:
that is a bug in the caller, never something to publish.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tiktok_publisher.domain.errors import DomainError
from tiktok_publisher.observability import is_sensitive_key, logger, looks_like_secret

SOURCE = "tiktok-publisher"
_MAX_DETAIL_BYTES = 256 * 1024 - 1024  # PutEvents entry limit is 256 KB including the envelope


class DetailType:
    """The detail-types we emit (the SaaS subscribes to these names)."""

    ACCOUNT_CONNECTED = "Account Connected"
    ACCOUNT_DISCONNECTED = "Account Disconnected"
    ACCOUNT_NEEDS_RECONNECT = "Account Needs Reconnect"
    POST_PUBLISHED = "Post Published"
    POST_FAILED = "Post Failed"
    POST_SENT_TO_INBOX = "Post Sent To Inbox"

    ALL = frozenset(
        {
            ACCOUNT_CONNECTED,
            ACCOUNT_DISCONNECTED,
            ACCOUNT_NEEDS_RECONNECT,
            POST_PUBLISHED,
            POST_FAILED,
            POST_SENT_TO_INBOX,
        }
    )


class EventPublishError(DomainError):
    """EventBridge did not accept the event (throttled, bus missing, ...)."""

    status_code = 503
    code = "event_publish_failed"


class UnsafeEventDetail(ValueError):
    """A detail would have carried a secret out of the system."""


def _check_safe(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            key_text = str(key)
            if is_sensitive_key(key_text):
                raise UnsafeEventDetail(f"event detail field {path}{key_text} is a secret-bearing name")
            _check_safe(inner, f"{path}{key_text}.")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            _check_safe(inner, f"{path}{index}.")
    elif isinstance(value, str):
        if looks_like_secret(value):
            raise UnsafeEventDetail(f"event detail field {path.rstrip('.')} looks like a token")
    elif isinstance(value, bytes | bytearray):
        raise UnsafeEventDetail(f"event detail field {path.rstrip('.')} is binary")


class EventPublisher:
    """PutEvents port. `client` defaults to the cached boto3 EventBridge client; `bus_name` to
    EVENT_BUS_NAME."""

    def __init__(self, bus_name: str | None = None, *, client: Any = None, source: str = SOURCE) -> None:
        self._bus_name = bus_name
        self._client = client
        self._source = source

    @property
    def bus_name(self) -> str:
        if self._bus_name is None:
            from tiktok_publisher.config import get_settings

            self._bus_name = str(get_settings().require("event_bus_name"))
        return self._bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any], *, tenant_id: str) -> None:
        """Send one event; detail gets `tenant_id` added. Raises UnsafeEventDetail or EventPublishError."""
        if not tenant_id:
            raise ValueError("tenant_id is required")
        body = {**detail, "tenant_id": tenant_id}
        _check_safe(body, "")
        text = json.dumps(body, default=str, separators=(",", ":"), sort_keys=True)
        if len(text.encode("utf-8")) > _MAX_DETAIL_BYTES:
            raise ValueError("event detail too large")
        entry = {
            "Source": self._source,
            "DetailType": detail_type,
            "Detail": text,
            "EventBusName": self.bus_name,
        }
        client = self._client
        if client is None:
            from tiktok_publisher.adapters import aws

            client = aws.client("events")
        try:
            answer = client.put_events(Entries=[entry])
        except Exception as exc:  # botocore errors must not reach handlers
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise EventPublishError(f"event not published ({code})", details={"aws_code": code}) from None
        if answer.get("FailedEntryCount", 0):
            failed = (answer.get("Entries") or [{}])[0]
            code = failed.get("ErrorCode") or "unknown"
            raise EventPublishError(f"event not published ({code})", details={"aws_code": code})
        logger.info("event published", extra={"detail_type": detail_type, "tenant_id": tenant_id})
