"""Event sources the local stack plays: SQS event source mappings, S3 notifications, schedules.

- SQS: long-poll each mapped queue, invoke with the Lambda SQS event, delete what succeeded
  (ReportBatchItemFailures honoured); failures become visible again after the queue's visibility
  timeout and reach the DLQ through moto's redrive policy, as in AWS.
- S3: moto's server cannot run a Lambda, so the bucket notifies an internal SQS queue with the same
  events and filters; that queue is drained into the function (at-least-once, like S3 -> Lambda
  async invokes with their retries).
- Schedules: each rate() rule fires its function on a timer (or on demand through the gateway).
- EventBridge rules on a bus: moto's server cannot invoke a Lambda target, so each rule targets an internal
  SQS queue instead (same rule, same pattern: moto matches the events); that queue is drained into the
  function with the event as EventBridge sends it (an asynchronous invoke, retried like S3's).
"""

from __future__ import annotations

import abc
import collections
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import events
from .functions import InvocationResult

Invoke = Callable[[str, Any], InvocationResult]
S3_BRIDGE_QUEUE = "local-stack-s3-notifications"
S3_MAX_ATTEMPTS = 3  # an asynchronous invoke: the first try plus two retries
EVENTS_MAX_ATTEMPTS = 3  # EventBridge retries far longer; locally a few tries show the same behaviour


@dataclass
class Delivery:
    """One event delivered to a function (kept for the admin endpoint and tests)."""

    source: str  # sqs | s3 | schedule | events
    name: str  # the event source's name in the template
    function: str
    event: Any
    ok: bool
    result: Any
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(vars(self))


class DeliveryLog:
    """The last deliveries, thread-safe, with a wait for tests."""

    def __init__(self, size: int = 500) -> None:
        self._items: collections.deque[Delivery] = collections.deque(maxlen=size)
        self._cond = threading.Condition()

    def add(self, delivery: Delivery) -> None:
        """Record a delivery."""
        with self._cond:
            self._items.append(delivery)
            self._cond.notify_all()

    def items(self) -> list[Delivery]:
        """A snapshot, oldest first."""
        with self._cond:
            return list(self._items)

    def wait_for(self, predicate: Callable[[Delivery], bool], timeout: float) -> Delivery:
        """The first delivery matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self._items:
                    if predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no matching delivery")
                self._cond.wait(remaining)


def _log(line: str) -> None:
    sys.stderr.write(f"[delivery] {line}\n")


class _Loop(abc.ABC):
    """A background loop that stops promptly."""

    def __init__(self, name: str) -> None:
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def join(self, timeout: float) -> None:
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.step()
            except Exception as exc:
                if self.stopping.is_set():
                    return
                _log(f"{self.thread.name}: {type(exc).__name__}: {exc}")
                self.stopping.wait(1.0)

    @abc.abstractmethod
    def step(self) -> None:
        """One round of delivery (poll, fire, forward)."""


class SqsPoller(_Loop):
    """An SQS event source mapping."""

    def __init__(
        self,
        sqs: Any,
        name: str,
        function: str,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_failures: bool,
        invoke: Invoke,
        log: DeliveryLog,
        wait_seconds: int = 1,
    ) -> None:
        super().__init__(f"sqs:{name}")
        self.sqs, self.name, self.function = sqs, name, function
        self.queue_url, self.queue_arn = queue_url, queue_arn
        self.batch_size, self.report_failures = batch_size, report_failures
        self.invoke, self.log, self.wait_seconds = invoke, log, wait_seconds

    def step(self) -> None:
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(self.batch_size, 10)),
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages = reply.get("Messages", [])
        if not messages or self.stopping.is_set():
            return
        event = events.sqs_event(messages, self.queue_arn)
        result = self.invoke(self.function, event)
        succeeded = self.successes(messages, result)
        if succeeded:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)
                ],
            )
        self.log.add(
            Delivery(
                "sqs",
                self.name,
                self.function,
                event,
                result.ok,
                result.payload if result.ok else result.error,
            )
        )

    def successes(self, messages: list[dict[str, Any]], result: InvocationResult) -> list[dict[str, Any]]:
        """Messages to delete: all on success, none on error, the unreported ones with partial failures."""
        if not result.ok:
            return []
        if not self.report_failures:
            return messages
        payload = result.payload
        failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
        if not failures:
            return messages
        ids = {m["MessageId"] for m in messages}
        failed = set()
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in ids:
                return []  # a malformed report fails the whole batch, as Lambda treats it
            failed.add(identifier)
        return [m for m in messages if m["MessageId"] not in failed]


class S3Bridge(_Loop):
    """S3 notifications (delivered by moto to an internal queue) to their functions."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        targets: dict[str, tuple[str, str]],  # configuration id -> (event source name, function)
        invoke: Invoke,
        log: DeliveryLog,
    ) -> None:
        super().__init__("s3-notifications")
        self.sqs, self.queue_url, self.targets, self.invoke, self.log = sqs, queue_url, targets, invoke, log

    def step(self) -> None:
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        )
        for message in reply.get("Messages", []):
            if self.stopping.is_set():
                return
            body = json.loads(message["Body"])
            records = body.get("Records") if isinstance(body, dict) else None
            done = True
            for record in records or []:  # no Records: s3:TestEvent, dropped as AWS never sends it to Lambda
                config_id = record.get("s3", {}).get("configurationId")
                if config_id not in self.targets:
                    continue
                name, function = self.targets[config_id]
                event = {"Records": [events.complete_s3_record(record)]}
                result = self.invoke(function, event)
                self.log.add(
                    Delivery(
                        "s3", name, function, event, result.ok, result.payload if result.ok else result.error
                    )
                )
                attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                if not result.ok and attempts < S3_MAX_ATTEMPTS:
                    done = False
            if done:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class EventRuleBridge(_Loop):
    """Events matched by a rule (delivered by moto to an internal queue) to the rule's function."""

    def __init__(
        self, sqs: Any, queue_url: str, name: str, function: str, invoke: Invoke, log: DeliveryLog
    ) -> None:
        super().__init__(f"events:{name}")
        self.sqs, self.queue_url, self.name, self.function = sqs, queue_url, name, function
        self.invoke, self.log = invoke, log

    def step(self) -> None:
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        )
        for message in reply.get("Messages", []):
            if self.stopping.is_set():
                return
            event = events.complete_bus_event(json.loads(message["Body"]))
            result = self.invoke(self.function, event)
            self.log.add(
                Delivery(
                    "events", self.name, self.function, event, result.ok,
                    result.payload if result.ok else result.error,
                )
            )  # fmt: skip
            attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if result.ok or attempts >= EVENTS_MAX_ATTEMPTS:
                if not result.ok:
                    _log(f"{self.name}: {self.function} failed {attempts} times; event dropped")
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class ScheduleTimer(_Loop):
    """One schedule firing every `interval` seconds (first run after one interval, as EventBridge)."""

    def __init__(self, name: str, fire: Callable[[], Any], interval: float) -> None:
        super().__init__(f"schedule:{name}")
        self.fire, self.interval = fire, interval

    def step(self) -> None:
        if not self.stopping.wait(self.interval):
            with contextlib.suppress(RuntimeError):  # the stack is stopping
                self.fire()
