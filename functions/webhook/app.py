"""webhook: POST /v1/webhooks/tiktok (no authorizer): TikTok-Signature check, then idempotent updates."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.observability import instrument_handler
from tiktok_publisher.webhooks.service import get_service, handle_http


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point; the raw body is verified before anything else."""
    return handle_http(event, get_service())
