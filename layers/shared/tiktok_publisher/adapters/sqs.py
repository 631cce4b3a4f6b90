"""SqsJobQueue: publish jobs onto PUBLISH_QUEUE_URL, optionally delayed (the worker's way of waiting)."""

from __future__ import annotations

from typing import Any

from tiktok_publisher.adapters import aws
from tiktok_publisher.domain.jobs import Job

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds ceiling


class SqsJobQueue:
    """Sends jobs to PUBLISH_QUEUE_URL."""

    def __init__(self, queue_url: str, sqs_client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._client = sqs_client

    @property
    def _sqs(self) -> Any:
        return self._client if self._client is not None else aws.client("sqs")

    def send(self, job: Job, *, delay: float = 0) -> None:
        """Enqueue `job`, visible after `delay` seconds (clamped to SQS's 0..900)."""
        seconds = max(0, min(MAX_DELAY_SECONDS, round(delay)))
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=job.to_json(), DelaySeconds=seconds)
