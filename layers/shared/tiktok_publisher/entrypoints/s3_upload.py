"""s3_upload: an object landed under uploads/: match it to its waiting post, check, probe, enqueue.

The event is read through Powertools' S3Event data class; S3 URL-encodes keys in notifications, and
`S3ObjectEvent.key` is the decoded key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.observability import instrument_handler
from tiktok_publisher.publishing.trigger import S3ObjectEvent, UploadTrigger


def object_events(event: Mapping[str, Any]) -> list[S3ObjectEvent]:
    """The ObjectCreated records of an S3 notification (others, e.g. an s3:TestEvent, are skipped)."""
    if not event.get("Records"):
        return []
    found: list[S3ObjectEvent] = []
    for record in S3Event(dict(event)).records:
        obj = record.s3.get_object
        if not record.event_name.startswith("ObjectCreated") or not record.s3.bucket.name or not obj.key:
            continue
        raw = obj.raw_event
        found.append(
            S3ObjectEvent(
                bucket=record.s3.bucket.name,
                key=unquote_plus(obj.key),
                size=int(raw["size"]) if raw.get("size") is not None else None,
                etag=raw.get("eTag") or raw.get("etag"),
                version_id=raw.get("versionId") or None,
                sequencer=raw.get("sequencer") or None,
                event_name=record.event_name,
            )
        )
    return found


def trigger() -> UploadTrigger:
    """The container's upload trigger (this function's role cannot read the app secret, and needs none)."""
    return ports(secrets=False).trigger


def handle(event: Mapping[str, Any]) -> list[str]:
    """One outcome per ObjectCreated record (see publishing/trigger.py)."""
    upload_trigger = trigger()
    return [upload_trigger.handle(obj) for obj in object_events(event)]


@instrument_handler(correlation_id_path='Records[0].responseElements."x-amz-request-id"')
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """S3 ObjectCreated entry point; an exception makes S3/Lambda retry the event (handled idempotently)."""
    return {"outcomes": handle(event)}
