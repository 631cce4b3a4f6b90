"""oauth_start: GET /v1/oauth/tiktok/start -> pending session, signed state, PKCE -> the authorize URL."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.entrypoints.http.connect import register_start
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.observability import instrument_handler

app = create_app()
register_start(app, ports)


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point."""
    return app.resolve(event, context)
