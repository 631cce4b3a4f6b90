"""Publishing integration harness: the publish and publish_worker handlers in-process against moto, TikTok
played by the emulator over real HTTP, media uploaded to S3 through the presigned URL with `requests`.

Time is compressed, not skipped: the worker's delayed SQS messages are sent with DelaySeconds=0, and the
delay each one asked for is added to both the worker's clock and the emulator's clock before it runs. So a
"poll again in 40 s" costs nothing in wall time but 40 s in TikTok's rate-limit windows and processing.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from tests.lambdas import LambdaContext, load_function
from tests.unit.connect.events import http_event

TENANT = "tenant-pub"
OTHER_TENANT = "tenant-other"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Clock:
    """Wall time plus the delays the worker asked for (compressed time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Publisher:
    """One test's world: moto AWS, the emulator, the wired ports and helpers to act as a user would."""

    env: Any
    emulator: Any
    ports: Any
    clock: Clock
    delays: list[float] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)  # every Job the worker sent, in order
    tenant: str = TENANT
    worker_runs: int = 0

    # ------------------------------------------------------------------ API

    def api(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        tenant: str | None = None,
    ) -> Answer:
        event = http_event(
            method, path, body=body, headers=headers, query=query, tenant_id=tenant or self.tenant
        )
        raw = load_function("publish").lambda_handler(event, LambdaContext(function_name="publish"))
        text = raw.get("body") or ""
        parsed = json.loads(text) if text else None
        return Answer(
            raw["statusCode"], {k.lower(): v for k, v in (raw.get("headers") or {}).items()}, parsed
        )

    def publish(self, body: dict[str, Any], *, key: str | None = None, tenant: str | None = None) -> Answer:
        return self.api(
            "POST",
            "/v1/posts",
            body=body,
            headers={"idempotency-key": key or uuid.uuid4().hex},
            tenant=tenant,
        )

    def connect(self, account: str = "creator_private", tenant: str | None = None) -> str:
        """Store the emulator account's tokens as a connected account of the tenant; returns open_id."""
        from tiktok_publisher.adapters.accounts_table import AccountRepository
        from tiktok_publisher.domain.tiktok import TokenSet, UserInfo

        flat = self.emulator.issue_token(account)
        tokens = TokenSet(
            access_token=flat["access_token"],
            refresh_token=flat["refresh_token"],
            open_id=flat["open_id"],
            scopes=flat["scope"].split(","),
            expires_in=flat["expires_in"],
            refresh_expires_in=flat["refresh_expires_in"],
        )
        profile = UserInfo(open_id=tokens.open_id, display_name=account)
        AccountRepository().save_connection(
            tenant or self.tenant, tokens.open_id, profile, tokens, now=int(self.clock())
        )
        return tokens.open_id

    def upload(
        self, data: bytes, open_id: str, *, filename: str = "clip.mp4", content_type: str = "video/mp4"
    ) -> dict[str, Any]:
        """POST /v1/uploads then PUT the bytes to the presigned URL with the signed headers."""
        answer = self.api(
            "POST",
            "/v1/uploads",
            body={"open_id": open_id, "filename": filename, "content_type": content_type, "size": len(data)},
        )
        assert answer.status == 201, answer.body
        ticket = dict(answer.body)
        put = requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=30)
        assert put.status_code == 200, put.text[:300]
        return ticket

    # ------------------------------------------------------------------ worker

    def messages(self) -> list[dict[str, Any]]:
        """Receive what is on the publish queue right now."""
        answer = self.env.aws.sqs.receive_message(
            QueueUrl=self.env.aws.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        return list(answer.get("Messages", []))

    def run_worker(self, *, max_batches: int = 200) -> int:
        """Deliver queued jobs to the publish_worker handler until the queue is empty; failed messages are
        made visible again at once (the redelivery SQS would do after the visibility timeout). Returns the
        number of failed deliveries."""
        failures = 0
        for _ in range(max_batches):
            batch = self.messages()
            if not batch:
                return failures
            failed = self.deliver(batch)
            failures += len(failed)
        raise AssertionError("the worker did not settle within the bounded number of batches")

    def run_worker_until(self, post_id: str, status: str, *, max_batches: int = 200) -> None:
        """Deliver queued jobs one batch at a time until the post has `status` (what is queued after that
        stays on the queue)."""
        for _ in range(max_batches):
            if self.post(post_id)["status"] == status:
                return
            batch = self.messages()
            assert batch, f"queue empty before the post reached {status}: {self.post(post_id)}"
            self.deliver(batch)
        raise AssertionError(f"the post did not reach {status} within the bounded number of batches")

    def advance(self, seconds: float) -> None:
        """Move the worker's and the emulator's clocks forward together."""
        self.clock.offset += seconds
        self.emulator.advance(seconds)

    def deliver(self, batch: list[dict[str, Any]]) -> set[str]:
        """One handler invocation for `batch`; deletes the successes, re-exposes the failures."""
        sqs, url = self.env.aws.sqs, self.env.aws.queue_url
        event = {"Records": [_sqs_record(m) for m in batch]}
        self.worker_runs += 1
        result = load_function("publish_worker").lambda_handler(
            event, LambdaContext(function_name="publish_worker")
        )
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        for message in batch:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return failed

    def post(self, post_id: str) -> dict[str, Any]:
        answer = self.api("GET", f"/v1/posts/{post_id}")
        assert answer.status == 200, answer.body
        return dict(answer.body)

    def tiktok_posts(self) -> list[dict[str, Any]]:
        """Every publish task the emulator created."""
        self.emulator.emulator.tick()
        with self.emulator.emulator.store.lock:
            return [p.to_dict() for p in self.emulator.emulator.store.posts.values()]

    def events(self) -> list[dict[str, Any]]:
        return self.env.aws.published_events(max_polls=5)


def _sqs_record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(int(time.time() * 1000)),
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test-publish",
        "awsRegion": "us-east-1",
    }


class CompressedQueue:
    """The real SQS queue port, with delays turned into clock advances (see module docstring)."""

    def __init__(
        self, inner: Any, publisher_clock: Clock, emulator: Any, delays: list[float], jobs: list[Any]
    ) -> None:
        self._inner = inner
        self._clock = publisher_clock
        self._emulator = emulator
        self._delays = delays
        self._jobs = jobs

    def send(self, job: Any, *, delay: float = 0) -> None:
        self._delays.append(delay)
        self._jobs.append(job)
        if delay > 0:
            self._clock.offset += delay
            self._emulator.advance(delay)
        self._inner.send(job, delay=0)


@pytest.fixture
def publisher(tiktok_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Publisher]:
    """The publishing world of one test (fresh ports, emulator without processing delay)."""
    from tiktok_publisher import bootstrap, config

    monkeypatch.setenv("APP_AUDITED", "false")
    config.reset_caches()
    bootstrap.reset()
    emulator = tiktok_env.emulator
    emulator.configure(processing_delay=0.0)
    wired = bootstrap.ports()
    # The publish function's service and the worker, as the handlers get them from the composition root.
    ports = SimpleNamespace(service=wired.publish_service, worker=wired.worker, uploads=wired.uploads)
    clock = Clock()
    delays: list[float] = []
    jobs: list[Any] = []
    queue = CompressedQueue(ports.worker.queue, clock, emulator, delays, jobs)
    ports.worker.queue = queue
    ports.worker.clock = clock
    ports.worker.sleep = lambda _s: None
    ports.service.clock = clock
    ports.worker.client._sleep = lambda _s: None  # the client's own retry backoff: no wall-time waits
    yield Publisher(env=tiktok_env, emulator=emulator, ports=ports, clock=clock, delays=delays, jobs=jobs)
    bootstrap.reset()
