"""Where moto is looser than AWS in ways our tests must not depend on, made as strict as AWS.

Used by the local stack's moto server (moto_main) and by the tests' in-process `mock_aws` fixture, so
both imitations behave alike.

- DynamoDB: a conditional write is atomic on DynamoDB (the condition and the write happen as one step).
  moto evaluates the condition, then writes, with nothing in between holding other requests back: two
  threads (or two requests to a threaded moto server) can both pass `version = :v` and both write. Every
  DynamoDB request is therefore run under one process-wide lock. That is stricter than DynamoDB (which
  serialises per item, not per table), never looser: no outcome DynamoDB could give is ruled in.
- SQS visibility (the webhook delivery queue keeps a message in flight for its retry delay), where moto
  differs from SQS in two ways that would make the imitation wrong rather than strict:
  * ChangeMessageVisibility may extend a message's visibility to at most 12 hours after it was *received*
    (each receive starts a new 12 hours, as the SQS API reference describes); moto counts the 12 hours from
    when the message was *sent*, so a message could never wait again once it is 12 hours old. The limit is
    kept, measured from the receive.
  * A FIFO group is blocked while one of its messages is in flight, i.e. received and not yet visible again.
    moto keeps a message that became visible again in its in-flight set until a receive walks past it, so
    the group stays blocked by a message nobody holds, and the walk can hand out a later message of the
    group before the earlier one. In-flight now means received and still invisible, as in SQS.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

# Re-entrant: moto's transact/batch operations may call back into other handler methods.
DYNAMODB_LOCK = threading.RLock()


def make_dynamodb_atomic() -> None:
    """Run every moto DynamoDB request under DYNAMODB_LOCK (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    if getattr(call_action, "_atomic", False):
        return

    @functools.wraps(call_action)
    def atomic_call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return call_action(self)

    atomic_call_action._atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]


MAX_VISIBILITY_MS = 43200 * 1000  # SQS: 12 hours


def make_sqs_visibility_per_receive() -> None:
    """ChangeMessageVisibility's 12 h limit counted from the receive, and FIFO groups blocked only by messages
    still invisible (see module docstring). Idempotent."""
    from moto.sqs import models
    from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid

    if getattr(models.SQSBackend.change_message_visibility, "_per_receive", False):
        return
    mark_received = models.Message.mark_received

    def received(self: Any, visibility_timeout: int | None = None) -> None:
        mark_received(self, visibility_timeout)
        self.local_received_at = models.unix_time_millis()

    def change_message_visibility(
        self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        queue = self.get_queue(queue_name)
        for message in queue._messages:
            if message.had_receipt_handle(receipt_handle):
                since = getattr(message, "local_received_at", message.sent_timestamp)
                if models.unix_time_millis() + int(visibility_timeout) * 1000 - since > MAX_VISIBILITY_MS:
                    raise InvalidParameterValue(
                        f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: "
                        "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
                    )
                message.change_visibility(visibility_timeout)
                if message.visible and message in queue.pending_messages:
                    queue.pending_messages.remove(message)
                return
        raise ReceiptHandleIsInvalid

    def pending_message_groups(self: Any) -> set[str]:
        return {m.group_id for m in self._pending_messages if m.group_id is not None and not m.visible}

    change_message_visibility._per_receive = True  # type: ignore[attr-defined]
    models.Message.mark_received = received  # type: ignore[method-assign]
    models.SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    models.Queue.pending_message_groups = property(pending_message_groups)  # type: ignore[assignment]
