"""Build API Gateway HTTP API (payload 2.0) events like the ones Lambda receives, with the authorizer's
simple-response context (requestContext.authorizer.lambda). Used by the connect tests at every level."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode


def http_event(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    raw_query: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    tenant_id: str | None = "tenant-a",
    user_id: str = "user-a",
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway v2 event; `tenant_id=None` means a route without the authorizer."""
    raw_query = raw_query if raw_query is not None else urlencode(query or {})
    all_headers = {"host": "api.example.com", "user-agent": "pytest", "accept": "*/*", **(headers or {})}
    if body is not None:
        raw_body = json.dumps(body)
    if raw_body is not None:
        all_headers.setdefault("content-type", "application/json")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": "25/Nov/2026:14:00:00 +0000",
            "timeEpoch": 1795615200000,
        },
        "isBase64Encoded": False,
    }
    if raw_query:
        params: dict[str, str] = {}
        from urllib.parse import parse_qsl

        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if raw_body is not None:
        event["body"] = raw_body
    if path_parameters:
        event["pathParameters"] = path_parameters
    if tenant_id is not None:
        event["requestContext"]["authorizer"] = {"lambda": {"tenant_id": tenant_id, "user_id": user_id}}
    return event
