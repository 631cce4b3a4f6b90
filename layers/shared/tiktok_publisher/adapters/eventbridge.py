"""EventPublisher: domain events out to the SaaS on EventBridge (EVENT_BUS_NAME), checked by
domain.events.check_safe before they leave the trust boundary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tiktok_publisher.adapters import aws
from tiktok_publisher.config import get_settings
from tiktok_publisher.domain.events import SOURCE, EventPublishError, check_safe
from tiktok_publisher.observability import logger

_MAX_DETAIL_BYTES = 256 * 1024 - 1024  # PutEvents entry limit is 256 KB including the envelope


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
            self._bus_name = str(get_settings().require("event_bus_name"))
        return self._bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any], *, tenant_id: str) -> None:
        """Send one event; detail gets `tenant_id` added. Raises UnsafeEventDetail or EventPublishError."""
        if not tenant_id:
            raise ValueError("tenant_id is required")
        body = {**detail, "tenant_id": tenant_id}
        check_safe(body, "")
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
