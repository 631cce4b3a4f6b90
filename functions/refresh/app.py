"""refresh: the token refresh sweep, its hand-offs, and the scheduled-post dispatcher (two schedules)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.observability import instrument_handler
from tiktok_publisher.refresh.runtime import get_runtime


@instrument_handler(correlation_id_path="id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge entry point: Scheduled Events of both rules and sweep continuations."""
    return get_runtime().handle(event, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
