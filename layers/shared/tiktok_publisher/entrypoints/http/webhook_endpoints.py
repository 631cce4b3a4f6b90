"""/v1/webhook-endpoints: the tenant's webhook endpoints, their secrets, delivery log and replays."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.domain.outbound import EVENT_TYPES, Delivery, Endpoint
from tiktok_publisher.entrypoints.http.caller import CallerDep
from tiktok_publisher.entrypoints.http.docs import empty_response, error_responses, ok_response
from tiktok_publisher.entrypoints.http.errors import BASE_HEADERS
from tiktok_publisher.outbound.schemas import (
    CreateEndpointRequest,
    DeliveryPage,
    DeliveryView,
    EndpointList,
    EndpointView,
    EndpointWithSecret,
    UpdateEndpointRequest,
)

BASE = "/v1/webhook-endpoints"
_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
EndpointId = Annotated[str, Path(min_length=29, max_length=29, pattern=f"^ep_{_ULID}$")]
MessageId = Annotated[str, Path(min_length=30, max_length=30, pattern=f"^msg_{_ULID}$")]
TAGS = ["Webhooks to your app"]


def _json(status: int, body: Any) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=dict(BASE_HEADERS)
    )


def _view(endpoint: Endpoint) -> EndpointView:
    return EndpointView(**endpoint.to_api())


def _delivery(delivery: Delivery) -> DeliveryView:
    return DeliveryView(**delivery.to_api())


def register_webhook_endpoints(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register the /v1/webhook-endpoints routes on `app`."""

    @app.post(
        BASE,
        summary="Register a webhook endpoint",
        description=(
            "The URL must be https on the public internet: it is resolved now and before every attempt, and "
            "private, loopback, link-local, multicast and reserved addresses are refused. The answer holds "
            "the signing secret (whsec_...), shown this once."
        ),
        tags=TAGS,
        responses={
            **ok_response(EndpointWithSecret, "Registered; store the secret now", 201),
            **error_responses(401, 409, 422, e409="The tenant already has the most endpoints allowed"),
        },
    )
    def create_endpoint(who: CallerDep, body: CreateEndpointRequest) -> Response[EndpointWithSecret]:
        endpoint, secret = ports().endpoint_service.create(
            who.tenant_id, url=body.url, event_types=body.event_types, description=body.description
        )
        return _json(HTTPStatus.CREATED, EndpointWithSecret(**endpoint.to_api(), secret=secret).model_dump())

    @app.get(
        BASE,
        summary="List webhook endpoints",
        tags=TAGS,
        responses={**ok_response(EndpointList, "The tenant's endpoints"), **error_responses(401)},
    )
    def list_endpoints(who: CallerDep) -> EndpointList:
        endpoints = ports().endpoint_service.all(who.tenant_id)
        return EndpointList(endpoints=[_view(e) for e in endpoints], event_types=sorted(EVENT_TYPES))

    @app.get(
        f"{BASE}/<endpoint_id>",
        summary="One webhook endpoint",
        tags=TAGS,
        responses={**ok_response(EndpointView, "The endpoint"), **error_responses(401, 404)},
    )
    def get_endpoint(who: CallerDep, endpoint_id: EndpointId) -> EndpointView:
        return _view(ports().endpoint_service.get(who.tenant_id, endpoint_id))

    @app.patch(
        f"{BASE}/<endpoint_id>",
        summary="Change a webhook endpoint (URL, event types, description, enabled)",
        description="`enabled: true` switches a disabled endpoint back on; replay what it missed afterwards.",
        tags=TAGS,
        responses={
            **ok_response(EndpointView, "The endpoint as changed"),
            **error_responses(401, 404, 409, 422),
        },
    )
    def update_endpoint(who: CallerDep, endpoint_id: EndpointId, body: UpdateEndpointRequest) -> EndpointView:
        endpoint = ports().endpoint_service.update(
            who.tenant_id,
            endpoint_id,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            enabled=body.enabled,
        )
        return _view(endpoint)

    @app.delete(
        f"{BASE}/<endpoint_id>",
        summary="Delete a webhook endpoint",
        description="Messages still queued for it are dropped. Its delivery log expires after 30 days.",
        tags=TAGS,
        responses={**empty_response(204, "Deleted"), **error_responses(401, 404)},
    )
    def delete_endpoint(who: CallerDep, endpoint_id: EndpointId) -> Response[None]:
        ports().endpoint_service.delete(who.tenant_id, endpoint_id)
        return Response(status_code=HTTPStatus.NO_CONTENT, headers=dict(BASE_HEADERS))

    @app.post(
        f"{BASE}/<endpoint_id>/rotate-secret",
        summary="Rotate an endpoint's signing secret",
        description=(
            "A new secret, shown this once. For 24 hours deliveries carry two signatures (new and old), so "
            "receivers can switch without missing a message."
        ),
        tags=TAGS,
        responses={**ok_response(EndpointWithSecret, "The new secret"), **error_responses(401, 404, 409)},
    )
    def rotate_secret(who: CallerDep, endpoint_id: EndpointId) -> EndpointWithSecret:
        endpoint, secret = ports().endpoint_service.rotate_secret(who.tenant_id, endpoint_id)
        return EndpointWithSecret(**endpoint.to_api(), secret=secret)

    @app.get(
        f"{BASE}/<endpoint_id>/deliveries",
        summary="An endpoint's delivery log, newest first",
        description="Each message with its attempts: status code, latency, attempt number (kept 30 days).",
        tags=TAGS,
        responses={**ok_response(DeliveryPage, "A page of deliveries"), **error_responses(401, 404, 422)},
    )
    def list_deliveries(
        who: CallerDep,
        endpoint_id: EndpointId,
        cursor: Annotated[str | None, Query(max_length=1024)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> DeliveryPage:
        rows, next_cursor = ports().endpoint_service.deliveries_page(
            who.tenant_id, endpoint_id, limit=limit, cursor=cursor
        )
        return DeliveryPage(deliveries=[_delivery(d) for d in rows], next_cursor=next_cursor)

    @app.get(
        f"{BASE}/<endpoint_id>/deliveries/<message_id>",
        summary="One delivery with its attempts",
        tags=TAGS,
        responses={**ok_response(DeliveryView, "The delivery"), **error_responses(401, 404)},
    )
    def get_delivery(who: CallerDep, endpoint_id: EndpointId, message_id: MessageId) -> DeliveryView:
        return _delivery(ports().endpoint_service.delivery(who.tenant_id, endpoint_id, message_id))

    @app.post(
        f"{BASE}/<endpoint_id>/deliveries/<message_id>/replay",
        summary="Send one message again",
        description=(
            "Same webhook-id and body, a new timestamp and signature, and a fresh series of retries. 409 "
            "while the message is still being delivered, or when the endpoint is disabled."
        ),
        tags=TAGS,
        responses={**ok_response(DeliveryView, "Queued again", 202), **error_responses(401, 404, 409)},
    )
    def replay(who: CallerDep, endpoint_id: EndpointId, message_id: MessageId) -> Response[DeliveryView]:
        delivery = ports().endpoint_service.replay(who.tenant_id, endpoint_id, message_id)
        return _json(HTTPStatus.ACCEPTED, _delivery(delivery).model_dump())
