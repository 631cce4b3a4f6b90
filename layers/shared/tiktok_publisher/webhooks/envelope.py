"""The webhook's body as TikTok sends it (TIKTOK-API.md §7): the exact raw bytes, then the envelope
`{client_key, event, create_time, user_openid, content}` (a pydantic model) whose `content` is a JSON string
parsed again with integers kept exact. A signed body we cannot parse is a 400, before any effect. Pure.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_BODY_BYTES = 64 * 1024

# authorization.removed `reason` (TIKTOK-API.md §7).
REMOVAL_REASONS = {
    0: "unknown",
    1: "user disconnected the app",
    2: "user deleted the TikTok account",
    3: "user's age changed",
    4: "user's account was banned",
    5: "the developer revoked the authorization",
}


class WebhookRejected(Exception):
    """The request is refused before any effect: 401 (authenticity) or 400 (shape)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class WebhookEvent(BaseModel):
    """The envelope of one webhook event. `content` is TikTok's JSON string, already parsed (integers kept as
    exact decimal strings: post ids are int64)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    client_key: str = ""
    event: str = Field(min_length=1)
    create_time: int
    user_openid: str
    content: dict[str, Any] = Field(default_factory=dict)

    @field_validator("client_key", mode="before")
    @classmethod
    def _client_key(cls, value: Any) -> str:
        return str(value or "")

    @field_validator("create_time", mode="before")
    @classmethod
    def _unix_time(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise ValueError("create_time must be a unix timestamp")
        return int(value)

    @field_validator("user_openid", mode="before")
    @classmethod
    def _open_id(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("user_openid is required")  # no coercion: an id is a string or nothing
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            try:
                value = json.loads(value, parse_int=str)
            except ValueError:
                raise ValueError("content is not a JSON string") from None
        elif value is None or value == "":
            return {}
        elif not isinstance(value, dict):  # an embedded object is tolerated: some senders do that
            raise ValueError("content must be a JSON string")
        if not isinstance(value, dict):
            raise ValueError("content must encode a JSON object")
        return value


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes TikTok sent (API Gateway base64-encodes non-text bodies: decode, never re-encode)."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise WebhookRejected(400, "malformed_body", "The body is not text.")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected(400, "malformed_body", "The body is not valid base64.") from None
    return body.encode("utf-8")


def parse_event(body: bytes) -> WebhookEvent:
    """The envelope and its `content`; WebhookRejected(400) for anything else."""
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "malformed_body", "The body is not JSON.") from None
    if not isinstance(envelope, dict):
        raise WebhookRejected(400, "malformed_body", "The body is not a JSON object.")
    try:
        return WebhookEvent.model_validate(envelope)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e.get("loc"))
        raise WebhookRejected(400, "malformed_body", f"The event has invalid fields: {fields}.") from None


def removal_reason(value: Any) -> tuple[int, str]:
    """authorization.removed reason code (0-5) and its text; anything else is 0, unknown."""
    try:
        code = int(value)
    except (TypeError, ValueError):
        code = 0
    if code not in REMOVAL_REASONS:
        code = 0
    return code, REMOVAL_REASONS[code]
