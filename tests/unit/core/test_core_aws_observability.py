"""boto3 client cache, endpoint override for boto3 and PynamoDB, and the handler decorator stack."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tiktok_publisher import observability
from tiktok_publisher.adapters import aws
from tiktok_publisher.adapters.dynamodb import ALL_MODELS, AccountModel, bind_models


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.reset_clients()
    bind_models()
    yield
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.reset_clients()
    bind_models()


def test_clients_are_cached_per_service() -> None:
    first = aws.client("sqs")

    assert aws.client("sqs") is first
    assert aws.client("s3") is not first
    aws.reset_clients()
    assert aws.client("sqs") is not first


def test_clients_have_tight_timeouts_and_bounded_retries() -> None:
    config = aws.client("kms").meta.config

    assert config.connect_timeout == 2
    assert config.read_timeout == 10
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_endpoint_override_reaches_boto3_and_pynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("ACCOUNTS_TABLE", "accounts-local")
    from tiktok_publisher import config

    config.reset_caches()
    aws.reset_clients()
    bind_models()

    assert aws.client("events").meta.endpoint_url == "http://127.0.0.1:4566"
    assert aws.client("events").meta.region_name == "eu-west-1"
    for model in ALL_MODELS:
        assert model.Meta.host == "http://127.0.0.1:4566"
        assert model.Meta.region == "eu-west-1"
    connection = AccountModel._get_connection()
    assert connection.table_name == "accounts-local"
    assert connection.connection.host == "http://127.0.0.1:4566"
    config.reset_caches()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.logger.registered_formatter)
    observability.logger._logger.addHandler(handler)
    yield stream
    observability.logger._logger.removeHandler(handler)


def test_instrumented_handler_logs_with_correlation_id_and_redacts(
    logs: io.StringIO,
) -> None:
    @observability.instrument_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        observability.logger.info("inside", extra={"authorization": "Bearer act.leak123"})
        return {"statusCode": 200}

    context = SimpleNamespace(
        function_name="fn",
        memory_limit_in_mb=128,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        aws_request_id=str(uuid.uuid4()),
    )

    answer = handler({"requestContext": {"requestId": "req-42"}}, context)

    assert answer == {"statusCode": 200}
    assert handler.__name__ == "handler"
    record = next(json.loads(line) for line in logs.getvalue().splitlines() if '"inside"' in line)
    assert record["correlation_id"] == "req-42"
    assert record["authorization"] == "***"
    assert "leak123" not in logs.getvalue()


def test_tracer_and_metrics_are_lazy_singletons() -> None:
    assert observability.tracer is observability.tracer
    assert observability.metrics is observability.metrics
    with pytest.raises(AttributeError):
        _ = observability.nothing_here  # type: ignore[attr-defined]
