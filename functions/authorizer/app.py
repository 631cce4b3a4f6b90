"""HTTP API Lambda REQUEST authorizer (payload 2.0, simple responses): Bearer JWT -> tenant_id, user_id."""

from __future__ import annotations

from typing import Any

from tiktok_publisher.entrypoints.authorizer import authorize_request
from tiktok_publisher.observability import logger

# Logger only: an authorizer runs before every request, so it skips the tracer/metrics stack to stay cheap;
# its verdicts are visible in API Gateway's own metrics and the reason codes in these logs.


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer {"isAuthorized": bool, "context": {"tenant_id", "user_id"}}; never why a caller was denied."""
    return authorize_request(event)
