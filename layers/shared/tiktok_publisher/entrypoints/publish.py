"""publish: POST /v1/uploads (presigned S3 PUT), POST/GET /v1/posts, GET/DELETE /v1/posts/{post_id}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.entrypoints.http.posts import register_publish_routes
from tiktok_publisher.entrypoints.http.resolver import create_app
from tiktok_publisher.observability import instrument_handler

app = create_app()
register_publish_routes(app, ports)


@instrument_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) entry point."""
    return app.resolve(event, context)
