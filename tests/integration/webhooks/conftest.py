"""Webhooks to the SaaS, in-process: the functions' handlers against moto (DynamoDB, KMS, EventBridge,
SQS FIFO) and a real HTTP receiver on loopback.

Time is one virtual clock shared by the product (fan-out, sender, endpoint service) and moto's SQS (message
visibility), so "retry in 5 hours" is checked by moving the clock, never by waiting.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local_stack.events import sqs_event
from tests.lambdas import LambdaContext, load_function
from tests.unit.connect.events import http_event


class VirtualClock:
    """Epoch seconds that move only when told (starts at the wall clock, so signatures are current)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers each request with the next scripted status (the last one
    repeats), records what it got."""

    statuses: list[int] = field(default_factory=lambda: [200])
    answer_body: bytes = b'{"ok":true}'
    extra_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tiktok?source=publisher"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                index = min(len(receiver.received), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Answer:
    status: int
    body: Any


class Hooks:
    """The webhook functions driven as Lambda would drive them, with the queue pumped by hand."""

    def __init__(self, aws: Any, clock: VirtualClock) -> None:
        self.aws = aws
        self.clock = clock
        self.queue_arn = aws.sqs.get_queue_attributes(
            QueueUrl=aws.webhook_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    # ------------------------------------------------------------------ the API
    def api(
        self,
        method: str,
        path: str,
        *,
        tenant: str = "tenant-a",
        body: Any = None,
        raw_body: str | None = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        event = http_event(method, path, body=body, raw_body=raw_body, query=query, tenant_id=tenant)
        raw = load_function("webhook_endpoints").lambda_handler(event, LambdaContext(remaining_ms=20_000))
        text = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return Answer(raw["statusCode"], json.loads(text) if text else None)

    def register(
        self, url: str, types: tuple[str, ...] = ("post.published",), *, tenant: str = "tenant-a"
    ) -> dict[str, Any]:
        answer = self.api(
            "POST", "/v1/webhook-endpoints", tenant=tenant, body={"url": url, "event_types": list(types)}
        )
        assert answer.status == 201, answer.body
        return dict(answer.body)

    def deliveries(self, endpoint_id: str, *, tenant: str = "tenant-a") -> list[dict[str, Any]]:
        answer = self.api("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries", tenant=tenant)
        assert answer.status == 200, answer.body
        return list(answer.body["deliveries"])

    # ------------------------------------------------------------------ the bus and the fan-out
    def emit(self, detail_type: str, detail: dict[str, Any], *, tenant: str = "tenant-a") -> dict[str, Any]:
        """Put a real event on the bus (the product's publisher) and hand what the bus delivered to the
        fan-out function, as the template's rule does."""
        from tiktok_publisher.adapters.eventbridge import EventPublisher

        EventPublisher().publish(detail_type, detail, tenant_id=tenant)
        (event,) = [e for e in self.aws.published_events() if e["detail-type"] == detail_type]
        self.fan_out(event)
        return event

    def fan_out(self, event: dict[str, Any]) -> dict[str, Any]:
        result = load_function("webhook_fanout").lambda_handler(event, LambdaContext())
        return dict(result)

    # ------------------------------------------------------------------ the delivery queue
    def visible(self) -> list[dict[str, Any]]:
        """Receive what SQS hands out now (as Lambda's poller would)."""
        answer = self.aws.sqs.receive_message(
            QueueUrl=self.aws.webhook_queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    def deliver(self) -> int:
        """One poll of the event source mapping: invoke the delivery function with what is visible, delete
        what succeeded. Returns how many messages were handed to the function."""
        messages = self.visible()
        if not messages:
            return 0
        result = load_function("webhook_delivery").lambda_handler(
            sqs_event(messages, self.queue_arn), LambdaContext(remaining_ms=100_000)
        )
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self.aws.sqs.delete_message(
                    QueueUrl=self.aws.webhook_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            else:
                # Lambda leaves a failed message alone; one whose visibility the function did not extend
                # (a later message of a waiting group) comes back after the queue's visibility timeout.
                pass
        return len(messages)

    def drain(self, limit: int = 10) -> int:
        """Deliver until nothing is visible (bounded)."""
        total = 0
        for _ in range(limit):
            handed = self.deliver()
            if not handed:
                return total
            total += handed
        raise AssertionError("the queue kept handing out messages")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """The virtual clock, also driving moto's SQS visibility and delays."""
    import moto.sqs.models as sqs_models

    virtual = VirtualClock()
    monkeypatch.setattr(sqs_models, "unix_time", lambda dt=None: virtual())
    monkeypatch.setattr(sqs_models, "unix_time_millis", lambda dt=None: virtual() * 1000)
    return virtual


@pytest.fixture
def hooks(aws: Any, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    """The webhook functions on moto, loopback receivers allowed (the local configuration), on `clock`."""
    from tiktok_publisher import bootstrap, config

    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    config.reset_caches()
    bootstrap.reset()
    p = bootstrap.ports(secrets=False)
    for service in (p.endpoint_service, p.fanout, p.delivery_sender):
        service.clock = clock
    yield Hooks(aws, clock)
    bootstrap.reset()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    handle = Receiver().start()
    yield handle
    handle.stop()
