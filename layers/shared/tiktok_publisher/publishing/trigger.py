"""The S3 upload trigger: an object landed under uploads/, so the post waiting for it can go.

Per ObjectCreated record:
1. The key must be `uploads/{tenant_id}/{open_id}/{upload_id}/{filename}`; the post is found by upload_id
   (by_upload_id index) and must belong to that tenant and account. Nobody waiting: a log line and the
   `UploadUnmatched` metric, and the object is left alone (the index can lag a fresh post by a moment, so
   the lookup is retried briefly first).
2. Size and type are checked against what was declared when the URL was signed (head_object: the
   `declared-size` metadata and the signed Content-Type), then the media is probed over ranged reads.
   A mismatch or an unreadable file fails the post with a message saying what to do.
3. One conditional write moves the post `awaiting_upload -> queued` (or `scheduled` when its publish_at is
   still ahead) and records the S3 event's identity (bucket, key, versionId or sequencer). S3 delivers at
   least once: a second delivery finds the post already moved by the same event and enqueues nothing.
4. The publish job is sent; if that fails the post goes back to awaiting_upload and the error propagates,
   so S3's retry of the event starts over.

An upload can land just before its post is written: its event then finds nobody waiting (step 1). So the
publish API, right after writing an awaiting_upload post, looks under the upload's prefix itself and, when
the file is there, runs steps 2-4 through `claim_found`; the conditional write of step 3 keeps the API and
a late or repeated S3 event from both enqueueing.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import MediaInfo, ObjectInfo, check_video
from tiktok_publisher.domain.posts import ABSENT, Post, PostStatus
from tiktok_publisher.domain.schedule import due_now, schedule_shard_for
from tiktok_publisher.domain.status import EVENT_OF_STATUS, event_detail
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import Events, JobQueue, MediaStore, Posts
from tiktok_publisher.publishing.probe import MediaProbeError, probe_video
from tiktok_publisher.publishing.uploads import MAX_VIDEO_BYTES, VIDEO_TYPES

_UPLOAD_KEY = re.compile(
    r"^uploads/(?P<tenant_id>[^/]+)/(?P<open_id>[^/]+)/(?P<upload_id>[^/]+)/(?P<filename>[^/]+)$"
)
LOOKUP_RETRY_DELAYS_S = (0.3, 0.7, 1.5)
# event_name of an object the publish API found itself (see UploadTrigger.claim_found).
FOUND_BY_API = "ObjectCreated:FoundByPublishApi"
DECLARED_SIZE_META = "declared-size"


@dataclass(frozen=True)
class S3ObjectEvent:
    """One ObjectCreated record (entrypoints/s3_upload.py reads them from the notification), key decoded."""

    bucket: str
    key: str
    size: int | None
    etag: str | None
    version_id: str | None
    sequencer: str | None
    event_name: str

    @property
    def event_id(self) -> str:
        """What makes this object version unique: bucket, key and versionId (else sequencer, else ETag, else
        how it was found)."""
        marker = self.version_id or self.sequencer or self.etag or self.event_name
        return f"{self.bucket}/{self.key}#{marker}"


@dataclass(frozen=True)
class UploadKey:
    tenant_id: str
    open_id: str
    upload_id: str
    filename: str


def parse_upload_key(key: str) -> UploadKey | None:
    """`uploads/{tenant}/{open_id}/{upload_id}/{filename}` -> its parts; None for any other key."""
    match = _UPLOAD_KEY.match(key)
    if match is None or ".." in key.split("/"):
        return None
    return UploadKey(**match.groupdict())


def check_declared(head: ObjectInfo) -> tuple[str, str] | None:
    """(code, message) when the object is not what its upload URL declared, else None."""
    declared = head.metadata.get(DECLARED_SIZE_META)
    if declared is not None and declared.isdigit() and int(declared) != head.size:
        return (
            "size_mismatch",
            f"The uploaded file is {head.size} bytes but {declared} were declared. Upload the file again.",
        )
    if head.content_type not in VIDEO_TYPES:
        allowed = ", ".join(VIDEO_TYPES)
        return "unsupported_type", f"The uploaded file is not a video TikTok accepts ({allowed})."
    if head.size > MAX_VIDEO_BYTES or head.size < 1:
        return "file_size", "TikTok accepts videos from 1 byte up to 4 GB."
    return None


@dataclass
class UploadTrigger:
    posts: Posts
    media: MediaStore
    queue: JobQueue
    events: Events
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    retry_delays: Sequence[float] = LOOKUP_RETRY_DELAYS_S
    outcomes: dict[str, int] = field(default_factory=dict)

    def handle(self, obj: S3ObjectEvent) -> str:
        """queued | scheduled | duplicate | ignored | rejected | unmatched (see module docstring)."""
        return self._record(self._handle(obj))

    def _record(self, outcome: str) -> str:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        _count(outcome)
        return outcome

    def _handle(self, obj: S3ObjectEvent) -> str:
        parts = parse_upload_key(obj.key)
        bucket = self.media.bucket
        if parts is None or bucket != obj.bucket:
            logger.warning("object outside the upload layout left alone", extra={"s3_key": obj.key})
            return "unmatched"
        post = self._waiting_post(parts)
        if post is None:
            logger.warning(
                "upload with no post waiting for it left alone",
                extra={"s3_key": obj.key, "upload_id": parts.upload_id},
            )
            return "unmatched"
        return self._process(post, obj)

    def claim_found(self, post: Post, found: ObjectInfo) -> str:
        """The publish API just recorded `post` as awaiting_upload and then found its file already in S3:
        the upload's S3 event may have come first and found nobody waiting. Proceed exactly as for that
        event; the conditional write in `_accept` lets only one of the API and the trigger move the post,
        so it is enqueued once either way."""
        bucket = self.media.bucket
        obj = S3ObjectEvent(
            bucket=bucket,
            key=found.key,
            size=found.size,
            etag=None,
            version_id=None,
            sequencer=None,
            event_name=FOUND_BY_API,
        )
        return self._record(self._process(post, obj))

    def _process(self, post: Post, obj: S3ObjectEvent) -> str:
        """Steps 2-4 of the module docstring for the post that waits for `obj`."""
        logger.append_keys(post_id=post.post_id, open_id=post.open_id)
        if post.status != PostStatus.AWAITING_UPLOAD:
            return self._not_waiting(post, obj)
        head = self.media.head(obj.key)
        if head is None:
            logger.info("uploaded object is gone again", extra={"s3_key": obj.key})
            return "ignored"
        problem = check_declared(head)
        info: MediaInfo | None = None
        if problem is None:
            info, problem = self._probe(head)
        if problem is not None or info is None:
            code, message = problem or ("unreadable_media", "The file could not be read.")
            return self._reject(post, obj, code, message)
        return self._accept(post, obj, head, info)

    def _waiting_post(self, parts: UploadKey) -> Post | None:
        for delay in (0.0, *self.retry_delays):
            if delay:
                self.sleep(delay)
            candidates = [
                p
                for p in self.posts.find_by_upload_id(parts.upload_id)
                if p.tenant_id == parts.tenant_id and p.open_id == parts.open_id
            ]
            if candidates:
                waiting = [p for p in candidates if p.status == PostStatus.AWAITING_UPLOAD]
                return (waiting or candidates)[0]
        return None

    def _not_waiting(self, post: Post, obj: S3ObjectEvent) -> str:
        if post.source.get("s3_event") == obj.event_id:
            logger.info("duplicate S3 event ignored", extra={"s3_event": obj.event_id, "status": post.status})
            return "duplicate"
        logger.info("post is not waiting for an upload any more", extra={"status": post.status})
        return "ignored"

    def _probe(self, head: ObjectInfo) -> tuple[MediaInfo | None, tuple[str, str] | None]:
        try:
            probed = probe_video(self.media.reader(head))
        except MediaProbeError as exc:
            return None, (exc.code, exc.message)
        info = dataclasses.replace(probed, size_bytes=head.size)
        problems = check_video(info)
        if problems:
            return None, (problems[0].type, " ".join(p.message for p in problems))
        return info, None

    def _accept(self, post: Post, obj: S3ObjectEvent, head: ObjectInfo, info: MediaInfo) -> str:
        now = self.clock()
        source = {
            "kind": "s3",
            "s3_key": head.key,
            "size": head.size,
            "content_type": info.content_type or head.content_type or "video/mp4",
            "probe": info.record(),
            "upload_id": post.upload_id,
            "s3_event": obj.event_id,
        }
        fields: dict[str, Any] = {"source": source}
        status = PostStatus.QUEUED
        if not due_now(post.publish_at, now=now):
            status = PostStatus.SCHEDULED
            fields["schedule_shard"] = schedule_shard_for(post.tenant_id, post.post_id)
        moved = self.posts.update(
            post,
            now=now,
            status=status,
            expect_status={PostStatus.AWAITING_UPLOAD},
            set_fields=fields,
            note="upload received",
        )
        if moved is None:
            return self._not_waiting(self.posts.get(post.tenant_id, post.post_id), obj)
        if status == PostStatus.SCHEDULED:
            logger.info("upload received; post scheduled", extra={"publish_at": post.publish_at})
            return "scheduled"
        try:
            self.queue.send(Job(post.tenant_id, post.post_id))
        except Exception:
            # Put the post back so S3's retry of this event can enqueue it; only if no worker touched it.
            self.posts.update(
                moved,
                now=self.clock(),
                status=PostStatus.AWAITING_UPLOAD,
                expect_status={PostStatus.QUEUED},
                expect={"init_started_at": ABSENT, "publish_id": ABSENT},
                set_fields={"source": post.source},
                note="enqueue failed; waiting for the upload event again",
            )
            raise
        logger.info("upload received; post queued", extra={"s3_key": head.key, "size": head.size})
        return "queued"

    def _reject(self, post: Post, obj: S3ObjectEvent, code: str, message: str) -> str:
        record = {"class": "fix_media", "code": code, "message": message, "log_id": None, "http_status": None}
        failed = self.posts.update(
            post,
            now=self.clock(),
            status=PostStatus.FAILED,
            expect_status={PostStatus.AWAITING_UPLOAD},
            set_fields={"fail_reason": record, "source": {**post.source, "s3_event": obj.event_id}},
            note=code,
        )
        if failed is None:
            return self._not_waiting(self.posts.get(post.tenant_id, post.post_id), obj)
        logger.info("upload rejected", extra={"code": code})
        self.events.publish(
            EVENT_OF_STATUS[PostStatus.FAILED], event_detail(failed), tenant_id=failed.tenant_id
        )
        return "rejected"


_METRIC_NAMES = {
    "queued": "UploadMatched",
    "scheduled": "UploadMatched",
    "duplicate": "UploadDuplicate",
    "ignored": "UploadIgnored",
    "rejected": "UploadRejected",
    "unmatched": "UploadUnmatched",
}


def _count(outcome: str) -> None:
    count(_METRIC_NAMES.get(outcome, "UploadOther"))
