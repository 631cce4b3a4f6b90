"""The fan-out: one bus event -> one delivery row and one queued message per endpoint of the tenant that
subscribed to its type. A bus event delivered twice (EventBridge is at least once) maps to the same message
id, so it finds its rows already there and its queue messages deduplicated or ignored by the sender."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.outbound import (
    TYPE_OF_DETAIL,
    Delivery,
    DeliveryMessage,
    DeliveryStatus,
    message_id_for,
    ordering_group,
    payload_for,
    queue_group_id,
)
from tiktok_publisher.ports import WebhookDeliveries, WebhookEndpoints, WebhookQueue


@dataclass(frozen=True)
class BusEvent:
    """The parts of an EventBridge event the fan-out reads."""

    event_id: str
    detail_type: str
    time: str  # ISO-8601, as EventBridge stamps it
    detail: Mapping[str, Any]


def _epoch_ms(stamp: str, fallback: float) -> int:
    try:
        return int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(fallback * 1000)


@dataclass
class FanOut:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    queue: WebhookQueue
    clock: Callable[[], float] = time.time

    def route(self, event: BusEvent) -> dict[str, Any]:
        """Queue the event for every subscribed endpoint; counts of what happened."""
        event_type = TYPE_OF_DETAIL.get(event.detail_type)
        tenant_id = event.detail.get("tenant_id")
        if event_type is None or not isinstance(tenant_id, str) or not tenant_id:
            return {"event_type": event_type, "endpoints": 0, "ignored": True}
        targets = [e for e in self.endpoints.list(tenant_id) if e.wants(event_type)]
        if not targets:
            return {"event_type": event_type, "endpoints": 0, "queued": 0}
        now = self.clock()
        message_id = message_id_for(event.event_id, _epoch_ms(event.time, now))
        payload = payload_for(event_type, event.time, event.detail)
        group = ordering_group(event_type, event.detail)
        created = 0
        for endpoint in targets:
            delivery = Delivery(
                tenant_id=tenant_id,
                endpoint_id=endpoint.endpoint_id,
                message_id=message_id,
                event_type=event_type,
                payload=payload,
                group=group,
                status=DeliveryStatus.PENDING,
                created_at=now,
                updated_at=now,
            )
            created += self.deliveries.create(delivery)
            # Sent even when the row existed: a fan-out that died between the row and the message must not
            # lose the message; a duplicate is dropped by SQS (5 min) or by the sender (row no longer open).
            self.queue.send(
                DeliveryMessage(tenant_id, endpoint.endpoint_id, message_id, 0),
                group_id=queue_group_id(tenant_id, endpoint.endpoint_id, group),
            )
        return {
            "event_type": event_type,
            "message_id": message_id,
            "endpoints": len(targets),
            "created": created,
        }
