"""dispatch: every minute, enqueue the scheduled posts whose publish_at has come (DESIGN.md §5.5).

The EventBridge "Scheduled Event" is read through Powertools' EventBridgeEvent data class: the dispatcher runs
for the minute the event is for (its `time`) rather than for whenever it got to run, which also makes the
clock injectable from the event (tests invoke it with a chosen time instead of waiting for real minutes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.dispatch.dispatcher import ScheduleDispatcher
from tiktok_publisher.observability import instrument_handler


def event_time(event: Mapping[str, Any]) -> int | None:
    """The minute a Scheduled Event is for, in epoch seconds; None when absent or unreadable."""
    stamp = EventBridgeEvent(dict(event)).get("time")
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def dispatcher() -> ScheduleDispatcher:
    """The container's dispatcher (this function's role cannot read the app secret, and needs none)."""
    return ports(secrets=False).dispatcher


def handle(event: Mapping[str, Any], *, time_left: Callable[[], float]) -> dict[str, Any]:
    """Dispatch what is due at the event's minute."""
    now = event_time(event) or int(time.time())
    return dispatcher().dispatch_due(now=now, time_left=time_left)


@instrument_handler(correlation_id_path="id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge Scheduled Event entry point."""
    return handle(event, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
