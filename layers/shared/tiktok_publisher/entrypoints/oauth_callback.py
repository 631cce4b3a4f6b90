"""oauth_callback: GET /v1/oauth/tiktok/callback (no authorizer) -> consume state, exchange the code, store
the account with encrypted tokens, 302 back to return_to. The query string holds a one-time code: it is
never logged (the handler does not log events, and the resolver runs with debug off)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.entrypoints.http.connect import register_callback
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.observability import instrument_handler

app = create_app()
register_callback(app, ports)


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point."""
    return app.resolve(event, context)
