"""The Powertools resolver every HTTP function uses: validation on, errors mapped once, body size capped."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

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

    def __init__(self, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, json_bodies: bool = True) -> None:
        # debug=False explicitly: debug mode prints whole events, and the callback's holds a one-time code.
        super().__init__(enable_validation=True, debug=False)
        self.max_body_bytes = max_body_bytes
        # False for the webhook: its signature covers raw bytes, whatever Content-Type TikTok sends.
        self.json_bodies = json_bodies
        register_error_handlers(self)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Refuse oversized or undecodable bodies with a JSON 413/400, else route as usual."""
        if _body_size(event) > self.max_body_bytes:
            return _raw_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "body_too_large",
                f"The request body is larger than {self.max_body_bytes} bytes.",
            )
        if self.json_bodies and event.get("body") and not _json_content_type(event):
            # Every body this API takes is JSON: refuse anything else before a parser (Powertools' form and
            # multipart readers) gets to fail on it.
            return _raw_error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            )
        text = event.get("body") or ""
        if event.get("isBase64Encoded") and text:
            try:
                text = base64.b64decode(text, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
                return _raw_error(
                    HTTPStatus.BAD_REQUEST, "malformed_body", "The request body is not valid UTF-8 JSON."
                )
        if self.json_bodies and text and not _json_object_or_unparsable(text):
            # Every body this API takes is one JSON object. Powertools would take the first element of an
            # array for a model-typed body (its query-parameter rule), so `[{...}]` must stop here.
            return _raw_error(
                HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_input", "The request body must be a JSON object."
            )
        return super().resolve(_decoded_path(event), context)


def _json_object_or_unparsable(text: str) -> bool:
    """False only for valid JSON that is not an object (malformed JSON is answered 400 further on)."""
    try:
        value = json.loads(text)
    except ValueError:
        return True
    return isinstance(value, dict)


def _json_content_type(event: Mapping[str, Any]) -> bool:
    """True when the request declares no Content-Type or a JSON one (application/json, */*+json)."""
    headers = event.get("headers") or {}
    value = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


def _decoded_path(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event with its path's percent-escapes decoded segment by segment, as API Gateway decodes
    `pathParameters`: Powertools matches routes on rawPath, so `/v1/accounts/a%3Ab` would otherwise reach the
    route as "a%3Ab" and fail the very pattern "a:b" satisfies. A segment that decodes to something holding
    "/" stays encoded (it then fails the id patterns: no path confusion)."""
    raw = event.get("rawPath")
    if not isinstance(raw, str) or "%" not in raw:
        return event
    segments = []
    for segment in raw.split("/"):
        decoded = unquote(segment)
        segments.append(segment if "/" in decoded else decoded)
    return {**event, "rawPath": "/".join(segments)}


def _raw_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json", **BASE_HEADERS},
        "body": json.dumps(error_body(code, message), separators=(",", ":")),
        "isBase64Encoded": False,
    }


def create_app(*, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, json_bodies: bool = True) -> ApiResolver:
    """A fresh resolver; register routes on it with the `register_*` functions of api.routes."""
    return ApiResolver(max_body_bytes=max_body_bytes, json_bodies=json_bodies)
