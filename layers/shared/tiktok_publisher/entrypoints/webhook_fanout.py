"""webhook_fanout: a rule on the project's bus sends every event a webhook can carry here; each one is queued
for the tenant's endpoints that subscribed to it (outbound/fanout.py). EventBridge retries a failed invoke,
and the fan-out is idempotent per event id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.observability import count, instrument_handler, logger
from tiktok_publisher.outbound.fanout import BusEvent


def bus_event(event: Mapping[str, Any]) -> BusEvent:
    """The fan-out's view of an EventBridge event (Powertools' data class)."""
    parsed = EventBridgeEvent(dict(event))
    detail = parsed.detail if isinstance(parsed.detail, dict) else {}
    return BusEvent(event_id=parsed.get_id, detail_type=parsed.detail_type, time=parsed.time, detail=detail)


def handle(event: Mapping[str, Any]) -> dict[str, Any]:
    """Fan one bus event out to its endpoints."""
    result = ports(secrets=False).fanout.route(bus_event(event))
    if result.get("ignored"):
        logger.warning("webhook fan-out ignored an event", extra={"detail_type": event.get("detail-type")})
    count("WebhookMessagesQueued", result.get("endpoints", 0))
    return result


@instrument_handler(correlation_id_path="id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge rule target."""
    return handle(event)
