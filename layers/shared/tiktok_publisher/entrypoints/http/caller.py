"""Who is calling: the tenant and user the authorizer put in requestContext.authorizer.lambda."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from tiktok_publisher.domain.errors import Unauthorized


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    user_id: str


def caller(event: APIGatewayProxyEventV2 | dict[str, Any]) -> Caller:
    """The authorizer's context of this request; Unauthorized when absent (a route deployed without the
    authorizer must fail closed, never fall back to some default tenant)."""
    raw = event.raw_event if isinstance(event, APIGatewayProxyEventV2) else event
    context = ((raw.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    tenant_id = context.get("tenant_id")
    user_id = context.get("user_id")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise Unauthorized("No authenticated tenant on this request.")
    return Caller(tenant_id=tenant_id, user_id=user_id if isinstance(user_id, str) and user_id else tenant_id)


def tenant(event: APIGatewayProxyEventV2 | dict[str, Any]) -> str:
    """The caller's tenant_id (see `caller`)."""
    return caller(event).tenant_id


def current_caller(request: Request) -> Caller:
    """Dependency form of `caller` for route signatures: `who: CallerDep`."""
    return caller(request.resolved_event.raw_event)


CallerDep = Annotated[Caller, Depends(current_caller)]
