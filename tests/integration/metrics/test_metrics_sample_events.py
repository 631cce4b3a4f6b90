"""The sample events in events/ (sam local generate-event shapes) fed to the metrics function: one handler,
the API request and the Scheduled Event each reach their side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.metrics.conftest import MetricsWorld
from tests.lambdas import LambdaContext, load_function

EVENTS = Path(__file__).resolve().parents[3] / "events"


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def test_the_api_sample_reaches_the_metrics_route(world: MetricsWorld) -> None:
    # The sample's post does not exist for its tenant: the route answers the API's 404 shape
    raw = load_function("metrics").lambda_handler(
        _sample("apigw_http_get_post_metrics.json"), LambdaContext(function_name="metrics")
    )
    assert raw["statusCode"] == 404
    assert json.loads(raw["body"])["error"]["code"] == "not_found"
    assert raw["headers"]["Cache-Control"] == "no-store"


def test_the_scheduled_sample_runs_a_snapshot_for_its_minute(world: MetricsWorld) -> None:
    report = load_function("metrics").lambda_handler(
        _sample("scheduled_metrics_snapshots.json"), LambdaContext(function_name="metrics")
    )
    # 2025-01-01: nothing tracked was due then, and TikTok was not called
    assert report["posts_due"] == 0
    assert report["accounts_due"] == 0
    assert report["tiktok_calls"] == {}
    assert world.tiktok_calls() == []
