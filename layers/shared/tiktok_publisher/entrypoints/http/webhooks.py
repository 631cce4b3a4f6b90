"""POST /v1/webhooks/tiktok (no authorizer): TikTok's webhook, on the resolver like every route.

The signature covers the exact bytes TikTok sent, so the route reads the raw body (API Gateway's base64 is
decoded, never re-encoded) and declares no body model: nothing parses it before the signature is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.entrypoints.http.errors import BASE_HEADERS, error_body
from tiktok_publisher.observability import count, logger
from tiktok_publisher.webhooks.envelope import WebhookRejected, raw_body
from tiktok_publisher.webhooks.signature import TOLERANCE_S

WEBHOOK_PATH = "/v1/webhooks/tiktok"


def register_webhook(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register POST /v1/webhooks/tiktok on `app`: 401/400 before any effect, 200 once applied."""

    @app.post(
        WEBHOOK_PATH,
        summary="TikTok webhook receiver (register this URL as the app's webhook callback)",
        description=(
            "As TikTok sends it: {client_key, event, create_time, user_openid, content (a JSON string)}. "
            "`TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client_secret, t + '.' + raw body)>` is checked "
            f"in constant time with a {TOLERANCE_S} s tolerance before anything happens. "
            "post.publish.* events settle the post with that publish_id; authorization.removed deletes the "
            "account's tokens in every tenant. Duplicates and unknown publish_ids are harmless."
        ),
        tags=["Webhooks"],
        responses={
            200: {"description": "Applied (or nothing to do)"},
            400: {"description": "Malformed body"},
            401: {"description": "Missing, forged or stale signature; nothing was changed"},
        },
    )
    def tiktok_webhook() -> Response[dict[str, object]]:
        request = app.current_event
        service = ports().webhooks
        try:
            received = service.receive(raw_body(request.raw_event), request.headers)
        except WebhookRejected as exc:
            logger.warning("webhook rejected", extra={"code": exc.code, "status": exc.status})
            count("WebhookRejected")
            return _json(exc.status, error_body(exc.code, exc.message))
        result = service.apply(received)
        logger.info("webhook applied", extra={"result": result})
        return _json(HTTPStatus.OK, {"ok": True, **result})


def _json(status: int, body: dict[str, object]) -> Response[dict[str, object]]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=dict(BASE_HEADERS)
    )
