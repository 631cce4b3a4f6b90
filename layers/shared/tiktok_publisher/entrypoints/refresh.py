"""refresh: the scheduled token refresh sweep and its hand-offs (DESIGN.md §6).

Two triggers (template.yaml RefreshFunction), told apart by the EventBridgeEvent data class's detail-type:
the RefreshSchedule "Scheduled Event" (a full sweep) and a "Refresh Sweep Continuation" on the project bus
(one shard handed on by a sweep out of time). Anything else is logged and answered with a sweep, the safe
default (a sweep is idempotent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.domain.events import CONTINUATION_DETAIL_TYPE
from tiktok_publisher.observability import instrument_handler, logger

SCHEDULED_EVENT = "Scheduled Event"


def event_kind(event: Mapping[str, Any]) -> str:
    """Which trigger sent this event: refresh, continuation, or unknown."""
    detail_type = EventBridgeEvent(dict(event)).get("detail-type")
    if detail_type == CONTINUATION_DETAIL_TYPE:
        return "continuation"
    if detail_type == SCHEDULED_EVENT:
        return "refresh"
    return "unknown"


def handle(event: Mapping[str, Any], *, time_left: Callable[[], float]) -> dict[str, Any]:
    """Route one event of the refresh function (see module docstring)."""
    runtime = ports().refresh_runtime
    kind = event_kind(event)
    if kind == "continuation":
        return {"kind": kind, **runtime.continue_sweep(event.get("detail") or {}, time_left=time_left)}
    if kind == "unknown":
        logger.warning(
            "refresh function got an unknown event", extra={"detail_type": event.get("detail-type")}
        )
    return {"kind": "refresh", **runtime.run_sweep(now=int(time.time()), time_left=time_left)}


@instrument_handler(correlation_id_path="id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge entry point: the RefreshSchedule's Scheduled Events and sweep continuations."""
    return handle(event, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
