"""Event payloads in the exact shapes AWS delivers them (pure functions, no I/O)."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote_plus

from .template import ACCOUNT_ID, REGION

# Content types API Gateway passes as text; everything else arrives base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


def is_text(content_type: str | None) -> bool:
    """Whether API Gateway would hand a body of this type to Lambda as text."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    return (
        ctype.startswith("text/")
        or any(t in ctype for t in _TEXT_TYPES)
        or ctype in ("application/x-www-form-urlencoded",)
    )


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def request_id() -> str:
    """An API Gateway request id (its format: base62-ish, 16 chars then '=')."""
    return secrets.token_urlsafe(12)[:15] + "="


def http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route_key: str,
    path_parameters: dict[str, str] | None,
    source_ip: str,
    domain_name: str,
    api_id: str,
    req_id: str,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event."""
    now = time.time()
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": req_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": _request_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        if is_text(joined.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def authorizer_event(
    request_event: dict[str, Any], identity_source: list[str], api_id: str
) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) for a request event built by `http_api_event`."""
    ctx = request_event["requestContext"]
    method, _, path = request_event["routeKey"].partition(" ")
    route_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/$default/{method}{path}"
    event = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": route_arn,
        "identitySource": identity_source,
        "routeKey": request_event["routeKey"],
        "rawPath": request_event["rawPath"],
        "rawQueryString": request_event["rawQueryString"],
        "headers": request_event["headers"],
        "requestContext": {k: v for k, v in ctx.items() if k != "authorizer"},
    }
    for optional in ("cookies", "queryStringParameters", "pathParameters"):
        if optional in request_event:
            event[optional] = request_event[optional]
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda SQS event for messages returned by ReceiveMessage (all attributes requested)."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                k: attributes[k]
                for k in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                    "SequenceNumber",
                    "MessageGroupId",
                    "MessageDeduplicationId",
                    "AWSTraceHeader",
                    "DeadLetterQueueSourceArn",
                )
                if k in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": base64.b64encode(value["BinaryValue"]).decode()
                    if "BinaryValue" in value
                    else None,
                    "stringListValues": value.get("StringListValues", []),
                    "binaryListValues": value.get("BinaryListValues", []),
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }
        for attr in record["messageAttributes"].values():
            if attr["binaryValue"] is None:
                del attr["binaryValue"]
            if attr["stringValue"] is None:
                del attr["stringValue"]
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


def complete_s3_record(record: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields S3 sends that moto's notification leaves out (identity, request ids, sequencer)."""
    record = dict(record)
    record.setdefault("userIdentity", {"principalId": "AWS:AIDALOCALSTACKEXAMPLE"})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault(
        "responseElements",
        {"x-amz-request-id": secrets.token_hex(8).upper(), "x-amz-id-2": secrets.token_urlsafe(48)},
    )
    s3 = dict(record.get("s3", {}))
    bucket = dict(s3.get("bucket", {}))
    bucket.setdefault("ownerIdentity", {"principalId": "A3LOCALSTACKOWNER"})
    obj = dict(s3.get("object", {}))
    obj.setdefault("sequencer", f"{time.time_ns():X}")
    # S3 URL-encodes keys in events (space -> "+") but keeps "/"; moto encodes "/" as %2F too.
    if "key" in obj:
        obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
    s3.update(bucket=bucket, object=obj)
    record["s3"] = s3
    return record


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    """EventBridge's "Scheduled Event" for a rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


def complete_bus_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event as an EventBridge rule hands it to Lambda: moto's SQS target leaves out `account`."""
    event = dict(event)
    event.setdefault("version", "0")
    event.setdefault("account", ACCOUNT_ID)
    event.setdefault("region", REGION)
    event.setdefault("resources", [])
    return event
