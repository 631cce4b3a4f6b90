"""SqsJobQueue: publish jobs onto PUBLISH_QUEUE_URL, optionally delayed (the worker's way of waiting); and
WebhookFifoQueue: webhook deliveries onto WEBHOOK_QUEUE_URL, one ordered lane per endpoint and post."""

from __future__ import annotations

from typing import Any

from tiktok_publisher.adapters import aws
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.outbound import DeliveryMessage

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


MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS ChangeMessageVisibility ceiling


class WebhookFifoQueue:
    """The FIFO webhook delivery queue (WEBHOOK_QUEUE_URL). FIFO queues refuse per-message delays, so a retry
    keeps its message in flight instead (`postpone`): that also holds back the messages behind it in the same
    group, which is what keeps a post's events in order while one of them waits."""

    def __init__(self, queue_url: str, sqs_client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._client = sqs_client

    @property
    def _sqs(self) -> Any:
        return self._client if self._client is not None else aws.client("sqs")

    def send(self, message: DeliveryMessage, *, group_id: str) -> None:
        """Enqueue `message` at the end of its group's lane (deduplicated by SQS for 5 minutes)."""
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.to_json(),
            MessageGroupId=group_id,
            MessageDeduplicationId=message.dedup_id,
        )

    def postpone(self, receipt_handle: str, seconds: int) -> None:
        """Keep a received message invisible for `seconds` more (clamped to SQS's 0..12 h)."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, int(seconds))),
        )
