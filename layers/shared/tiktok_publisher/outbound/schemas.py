"""Request and response bodies of /v1/webhook-endpoints (pydantic: validation at the edge, OpenAPI free)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tiktok_publisher.domain.outbound import EVENT_TYPES
from tiktok_publisher.domain.ssrf import MAX_URL_LENGTH

EVENT_TYPE_LIST = ", ".join(sorted(EVENT_TYPES))
# The document lists the event types, so a caller (and a contract test) knows them before asking.
_TYPE_ITEMS: dict[str, Any] = {"items": {"type": "string", "enum": sorted(EVENT_TYPES)}}


def _check_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = sorted({t for t in value if t not in EVENT_TYPES})
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {EVENT_TYPE_LIST}")
    return sorted(set(value))


class CreateEndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https URL on the public internet (checked again, after DNS, before every attempt).",
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description=f"Which events to send: {EVENT_TYPE_LIST}.",
        json_schema_extra=_TYPE_ITEMS,
    )
    description: str = Field("", max_length=200)

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        return _check_types(value)


class UpdateEndpointRequest(BaseModel):
    """Every field optional; `enabled: true` switches a disabled endpoint back on."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=MAX_URL_LENGTH)
    event_types: list[str] | None = Field(
        None, min_length=1, max_length=len(EVENT_TYPES), json_schema_extra=_TYPE_ITEMS
    )
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        return _check_types(value)


class EndpointView(BaseModel):
    endpoint_id: str
    url: str
    description: str
    event_types: list[str]
    status: str = Field(description="enabled | disabled")
    created_at: str
    updated_at: str
    failing_since: str | None = Field(
        description="Since when every attempt failed (null: the last one worked)."
    )
    disabled_at: str | None
    disabled_reason: str | None


class EndpointWithSecret(EndpointView):
    secret: str = Field(
        description="whsec_... signing secret. Shown only in this answer: store it now. Verify deliveries "
        "with any Standard Webhooks library."
    )


class EndpointList(BaseModel):
    endpoints: list[EndpointView]
    event_types: list[str] = Field(description="Every event type an endpoint can subscribe to.")


class AttemptView(BaseModel):
    number: int
    at: str
    status_code: int | None = Field(description="What the endpoint answered; null when nothing came back.")
    latency_ms: int
    error: str | None = Field(
        description="timeout, connection_error, tls_error, unsafe_address, ... when there was no answer."
    )
    replay: bool


class DeliveryView(BaseModel):
    message_id: str = Field(description="The webhook-id header: the same on every attempt and replay.")
    endpoint_id: str
    event_type: str
    status: str = Field(description="pending | retrying | succeeded | failed | skipped")
    created_at: str
    updated_at: str
    attempt_count: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_latency_ms: int | None
    attempts: list[AttemptView]
    payload: dict[str, Any] = Field(description="The body as sent: {type, timestamp, data}.")


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryView]
    next_cursor: str | None
