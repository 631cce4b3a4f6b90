"""accounts: list, detail, disconnect, creator-info and data deletion of a tenant's TikTok accounts, the
tenant's settings and the app's audit mode (GET /v1/app); also serves the API's OpenAPI document at
GET /v1/openapi.json (no authorizer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.entrypoints.http.accounts import register_accounts
from tiktok_publisher.entrypoints.http.openapi import register_openapi
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.entrypoints.http.tenant import register_tenant
from tiktok_publisher.observability import instrument_handler

app = create_app()
register_accounts(app, ports)
register_tenant(app, ports)
register_openapi(app)


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point."""
    return app.resolve(event, context)
