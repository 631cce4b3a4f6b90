"""webhook_delivery: the FIFO delivery queue -> one signed POST per message (outbound/sender.py).

A message to retry stays in flight: its visibility is set to the retry's delay (FIFO queues refuse per-message
delays) and it is reported failed, so SQS hands it back when the delay is over and, meanwhile, holds back the
messages behind it in its group (the same endpoint and post). Powertools' FIFO batch processor reports the
rest of that group's batch as failed too, so nothing overtakes it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.domain.outbound import DeliveryMessage
from tiktok_publisher.observability import count, instrument_handler, logger
from tiktok_publisher.outbound.sender import OutcomeKind

# Only the failed message's group waits; other posts' messages in the same batch go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# Failures are always reported per message (a batch of one waiting message is the usual case), never raised.
processor.raise_on_entire_batch_failure = False


class RetryLater(Exception):
    """This message waits (its visibility already set to the delay); report it failed."""


# Messages of this invocation that reached record_handler (the rest of a failed group's batch did not).
_handled: set[str] = set()


def record_handler(record: SQSRecord) -> str:
    """One message; RetryLater leaves it (and its group) to SQS until the delay is over."""
    _handled.add(record.message_id)
    try:
        message = DeliveryMessage.from_json(record.body)
    except ValueError:
        logger.error("webhook queue: unreadable message dropped", extra={"message_id": record.message_id})
        return "dropped"
    p = ports(secrets=False)
    outcome = p.delivery_sender.attempt(message)
    count(f"Webhook_{outcome.kind}")
    if outcome.kind is OutcomeKind.RETRY and outcome.retry_in is not None:
        p.webhook_queue.postpone(record.receipt_handle, outcome.retry_in)
        raise RetryLater(f"retry in {outcome.retry_in} s")
    return str(outcome.kind)


@instrument_handler(correlation_id_path="Records[0].messageId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS (FIFO) entry point with ReportBatchItemFailures."""
    _handled.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    behind = [r for r in event.get("Records", []) if r["messageId"] in failed - _handled]
    if behind:
        # Messages that waited behind a retrying one in their group go back at once: the group stays blocked
        # by the waiting message, and their own (longer) visibility would otherwise hold up its retry.
        queue = ports(secrets=False).webhook_queue
        for record in behind:
            queue.postpone(record["receiptHandle"], 0)
    return response
