"""metrics: the metrics API (GET /v1/posts/{post_id}/metrics[/history],
GET /v1/accounts/{open_id}/stats[/history]) and the snapshot schedule (MetricsSchedule), told apart by the
event's shape: API Gateway's payload 2.0 carries a `requestContext`, a Scheduled Event a `detail-type`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.entrypoints.http.metrics import register_metrics
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.observability import instrument_handler, logger

app = create_app()
register_metrics(app, ports)
SCHEDULED_EVENT = "Scheduled Event"


def is_http(event: Mapping[str, Any]) -> bool:
    """An API Gateway request rather than a schedule."""
    return isinstance(event.get("requestContext"), dict) and "routeKey" in event


def event_time(event: Mapping[str, Any]) -> int | None:
    """The minute a Scheduled Event is for, in epoch seconds; None when absent or unreadable."""
    stamp = EventBridgeEvent(dict(event)).get("time")
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def snapshot(event: Mapping[str, Any], *, time_left: Callable[[], float]) -> dict[str, Any]:
    """One snapshot run for the minute the Scheduled Event is for (its `time`), so tests choose the clock."""
    detail_type = EventBridgeEvent(dict(event)).get("detail-type")
    if detail_type != SCHEDULED_EVENT:
        logger.warning("metrics function got an unknown event", extra={"detail_type": detail_type})
    now = event_time(event) or int(time.time())
    return ports().snapshot_run.run(now=now, time_left=time_left)


@instrument_handler(correlation_id_path="requestContext.requestId || id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) requests and EventBridge Scheduled Events."""
    if is_http(event):
        return app.resolve(event, context)
    return snapshot(event, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
