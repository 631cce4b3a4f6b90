"""The Powertools resolver every HTTP function uses: validation on, errors mapped once, body size capped."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.entrypoints.http.errors import BASE_HEADERS, error_body, register_error_handlers

# Bodies are JSON metadata (media goes to S3 through presigned URLs), so anything bigger is a mistake
# or an attack; refusing it before parsing keeps memory and CPU bounded.
DEFAULT_MAX_BODY_BYTES = 64 * 1024


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if not isinstance(body, str):
        return 0
    if event.get("isBase64Encoded"):
        # Decoded size without decoding: 3 bytes per 4 characters, minus padding.
        stripped = body.rstrip("=")
        return (len(stripped) * 3) // 4
    return len(body.encode("utf-8"))


class ApiResolver(APIGatewayHttpResolver):
    """APIGatewayHttpResolver with validation, the project's error mapping and a request body size limit."""

    def __init__(self, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        # debug=False explicitly: debug mode prints whole events, and the callback's holds a one-time code.
        super().__init__(enable_validation=True, debug=False)
        self.max_body_bytes = max_body_bytes
        register_error_handlers(self)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Refuse oversized or undecodable bodies with a JSON 413/400, else route as usual."""
        if _body_size(event) > self.max_body_bytes:
            return _raw_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "body_too_large",
                f"The request body is larger than {self.max_body_bytes} bytes.",
            )
        if event.get("isBase64Encoded") and event.get("body"):
            try:
                base64.b64decode(event["body"], validate=True)
            except (binascii.Error, ValueError):
                return _raw_error(
                    HTTPStatus.BAD_REQUEST, "malformed_body", "The request body is not valid base64."
                )
        return super().resolve(event, context)


def _raw_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json", **BASE_HEADERS},
        "body": json.dumps(error_body(code, message), separators=(",", ":")),
        "isBase64Encoded": False,
    }


def create_app(*, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> ApiResolver:
    """A fresh resolver; register routes on it with the `register_*` functions of api.routes."""
    return ApiResolver(max_body_bytes=max_body_bytes)
