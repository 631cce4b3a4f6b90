"""Probe handler: answers with what it received, so tests can check the event shapes the stack delivers."""

import json
import os

ENV_KEYS = ("STAGE", "AWS_ENDPOINT_URL", "ACCOUNTS_TABLE", "TIKTOK_API_BASE", "OAUTH_REDIRECT_URI")


def _context(context):
    return {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "env": {k: os.environ.get(k) for k in ENV_KEYS},
    }


def lambda_handler(event, context):
    records = event.get("Records") or [{}]
    if records[0].get("eventSource") == "aws:sqs":
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "fail" in r["body"]]
        return {"batchItemFailures": failures, "received": event}
    if "rawPath" in event:
        if event["rawPath"].endswith("/raise"):
            raise RuntimeError("the probe was asked to raise")
        if event["rawPath"].endswith("/bare"):
            return {"bare": True}
        return {
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-probe": "yes"},
            "cookies": ["a=1; Path=/", "b=2; Path=/"],
            "body": json.dumps({"event": event, "context": _context(context)}),
        }
    return {"received": event, "context": _context(context)}
