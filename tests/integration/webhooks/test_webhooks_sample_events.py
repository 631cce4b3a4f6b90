"""The sample events in events/ fed to the webhook functions."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.webhooks.conftest import Hooks, Receiver
from tests.lambdas import ROOT, LambdaContext, load_function


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "events" / name).read_text()))


def test_the_bus_sample_is_fanned_out_to_the_demo_tenants_endpoint(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url, tenant="demo-tenant")
    result = hooks.fan_out(_sample("eventbridge_post_published.json"))
    assert (result["event_type"], result["endpoints"], result["created"]) == ("post.published", 1, 1)
    hooks.drain()
    (request,) = receiver.received
    assert request.json()["data"]["post_ids"] == ["7390123456789012345"]
    assert request.json()["timestamp"] == "2026-11-25T14:30:00Z"
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"], tenant="demo-tenant")
    assert delivery["status"] == "succeeded"


def test_the_queue_sample_points_at_no_delivery_and_is_acknowledged(hooks: Hooks) -> None:
    answer = load_function("webhook_delivery").lambda_handler(
        _sample("sqs_webhook_delivery.json"), LambdaContext()
    )
    assert answer == {"batchItemFailures": []}
