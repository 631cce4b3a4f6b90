"""webhook: POST /v1/webhooks/tiktok (no authorizer): TikTok-Signature check, then idempotent updates."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.entrypoints.http.webhooks import register_webhook
from tiktok_publisher.observability import instrument_handler

app = create_app()
register_webhook(app, ports)


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point; the raw body is verified before anything else."""
    return app.resolve(event, context)
