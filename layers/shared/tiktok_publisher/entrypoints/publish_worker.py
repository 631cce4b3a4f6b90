"""publish_worker: SQS publish jobs (init, streamed transfer, status polling), partial batch failures.

Each record is the Powertools SQSRecord data class; its body is parsed into a Job by the Job model itself.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.observability import instrument_handler

# Failures are always reported per message (even all of them), never as a raised batch error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    """One job; an exception marks only this message as failed (SQS redelivers it)."""
    ports().worker.handle(Job.from_json(record.body))


@instrument_handler(correlation_id_path="Records[0].messageId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS entry point (ReportBatchItemFailures)."""
    ports().worker.time_left = lambda: context.get_remaining_time_in_millis() / 1000
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
