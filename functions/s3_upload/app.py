"""s3_upload: an object landed under uploads/: match it to its waiting post, check, probe, enqueue."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.observability import instrument_handler
from tiktok_publisher.publishing.trigger import get_trigger


@instrument_handler(correlation_id_path='Records[0].responseElements."x-amz-request-id"')
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """S3 ObjectCreated entry point; an exception makes S3/Lambda retry the event (handled idempotently)."""
    return {"outcomes": get_trigger().handle_event(event)}
