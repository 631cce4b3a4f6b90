"""webhook_endpoints: /v1/webhook-endpoints (register, list, change, delete, rotate secret, delivery log,
replay). The function never reads the app secret: its role cannot."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import Ports, ports
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.entrypoints.http.webhook_endpoints import register_webhook_endpoints
from tiktok_publisher.observability import instrument_handler


def no_secret_ports() -> Ports:
    """The container's ports, without the app secret."""
    return ports(secrets=False)


app = create_app()
register_webhook_endpoints(app, no_secret_ports)


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point."""
    return app.resolve(event, context)
