"""Step 1, init: the init marker, TikTok's init called once, publish_id stored the moment it answers; a
definite refusal clears the marker, an ambiguous one settles `unconfirmed` (never a second init)."""

from __future__ import annotations

import secrets
from typing import Any

from tiktok_publisher.domain.chunks import plan_chunks
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import MediaPin
from tiktok_publisher.domain.posts import ABSENT, Post, PostStatus
from tiktok_publisher.domain.status import (
    STATUS_TIME_LIMIT_S,
    poll_delay,
)
from tiktok_publisher.domain.taxonomy import (
    backoff_delay,
    classify,
    min_spacing_s,
)
from tiktok_publisher.domain.tiktok import InitResult
from tiktok_publisher.domain.tiktok_errors import TikTokError, TikTokTransportError, token_rejected
from tiktok_publisher.observability import logger
from tiktok_publisher.publishing.worker.base import (
    INIT_LEASE_S,
    MAX_RETRIES,
    RETRY_CAP_S,
    WorkerBase,
    uploadable,
)


class InitStep(WorkerBase):
    def _start(self, post: Post, job: Job, *, token_replaced: bool = False) -> None:
        now = self.clock()
        if post.publish_id:  # stored with the status change, so only a hand-edited row gets here
            self._poll(post, job)
            return
        if post.init_started_at is not None:
            if now - post.init_started_at < INIT_LEASE_S:
                self._requeue(job, INIT_LEASE_S - (now - post.init_started_at) + 1)
            self._settle_unconfirmed(
                post,
                "init_outcome_unknown",
                "TikTok may or may not have received this post (the worker stopped while starting it). "
                "It will not be sent again automatically; check the TikTok app before posting again.",
            )
            return
        token = self._token(post, job)
        if self._media_replaced(post):
            return
        transfer, request = self._init_request(post, now)
        marker = secrets.token_hex(16)
        marked = self.posts.update(
            post,
            now=now,
            expect_status={PostStatus.QUEUED},
            expect={"publish_id": ABSENT, "init_started_at": ABSENT},
            set_fields={"init_started_at": int(now), "init_token": marker, "transfer": transfer},
            note=f"starting {transfer}",
        )
        if marked is None:
            logger.info("another worker started this post, or it was cancelled")
            return
        try:
            result = self._call_init(marked, token, request)
        except TikTokError as exc:
            if token_rejected(exc) and not token_replaced:
                self._init_token_rejected(marked, job, marker, token, exc)
            else:
                self._init_refused(marked, job, marker, transfer, exc)
            return
        self.seams.after_init_call(marked)
        upload = transfer == "upload"
        fields: dict[str, Any] = {"publish_id": result.publish_id}
        if upload:
            fields["upload_progress"] = {
                **request["progress"],
                "upload_url": result.upload_url,
                "uploaded_chunks": 0,
            }
        else:
            fields["status_deadline"] = int(now) + STATUS_TIME_LIMIT_S
        saved = self.posts.update(
            marked,
            now=self.clock(),
            status=PostStatus.UPLOADING if upload else PostStatus.PROCESSING,
            expect={"init_token": marker, "publish_id": ABSENT},
            set_fields=fields,
            note=f"tiktok task {result.publish_id}",
        )
        if saved is None:
            # Only possible if someone edited the row under us; the task exists, so never init again.
            logger.error("publish_id could not be stored", extra={"publish_id": result.publish_id})
            return
        logger.info("publish task created", extra={"publish_id": result.publish_id, "transfer": transfer})
        self.seams.after_init(saved)
        if upload:
            self._upload(saved, job.fresh(), token)
        else:
            self._requeue(job.fresh(), poll_delay(0))

    def _init_request(self, post: Post, now: float) -> tuple[str, dict[str, Any]]:
        """Which transfer and what init body (DESIGN.md §5.2)."""
        source = post.source
        if post.media == "photo":
            urls = [
                image.get("url")
                or self.pull.url_for(image["s3_key"], now=now, pin=MediaPin.from_source(image))
                for image in source["images"]
            ]
            info = _photo_post_info(post.post_info)
            body = {
                "media_type": "PHOTO",
                "post_mode": "DIRECT_POST" if post.mode == "direct" else "MEDIA_UPLOAD",
                "post_info": info,
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_images": urls,
                    "photo_cover_index": int(source.get("cover_index", 0)),
                },
            }
            return "pull", {"photo": body}
        if source.get("url"):
            return "pull", {"source_info": {"source": "PULL_FROM_URL", "video_url": source["url"]}}
        if self.pull.enabled and not source.get("pull_refused"):
            url = self.pull.url_for(source["s3_key"], now=now, pin=MediaPin.from_source(source))
            return "pull", {"source_info": {"source": "PULL_FROM_URL", "video_url": url}}
        plan = plan_chunks(int(source["size"]))
        progress = {
            "video_size": plan.video_size,
            "chunk_size": plan.chunk_size,
            "total_chunk_count": plan.total_chunk_count,
            "content_type": source.get("content_type") or "video/mp4",
        }
        return "upload", {"source_info": plan.source_info(), "progress": progress}

    def _call_init(self, post: Post, token: str, request: dict[str, Any]) -> InitResult:
        if "photo" in request:
            return self.client.init_photo(token, body=request["photo"])
        inbox = post.mode == "inbox"
        return self.client.init_video(
            token,
            inbox=inbox,
            post_info=None if inbox else _video_post_info(post.post_info),
            source_info=request["source_info"],
        )

    def _init_token_rejected(
        self, post: Post, job: Job, marker: str, rejected: str, refusal: TikTokError
    ) -> None:
        """TikTok refused the access token at init (`access_token_invalid`, in its error envelope): no task
        was created, so the marker goes, exactly as for any definite refusal (docs/publishing.md, "Exactly
        once"); then one forced refresh of that token and one more start, which writes a new marker and
        inits once with the new token. A second refusal is final for this post (`_init_refused`)."""
        cleared = self.posts.update(
            post,
            now=self.clock(),
            expect={"init_token": marker, "publish_id": ABSENT},
            set_fields={"init_started_at": None, "init_token": None, "transfer": None},
            note="tiktok refused the access token: refreshing it",
        )
        if cleared is None:
            return  # cancelled meanwhile
        try:
            self._replacement_token(cleared, rejected)
        except (AccountNeedsReconnect, NotFound, UpstreamError) as exc:
            self._token_failed(cleared, job, exc, log_id=refusal.log_id)
        # _start takes the account's live token again: the one the forced refresh just stored.
        self._start(cleared, job, token_replaced=True)

    def _init_refused(self, post: Post, job: Job, marker: str, transfer: str, exc: TikTokError) -> None:
        error = classify(exc.code, exc.http_status)
        if ambiguous(exc):
            self._settle_unconfirmed(
                post,
                error.code,
                "TikTok did not answer when this post was started, so it may exist there. It will not be "
                "sent again automatically; check the TikTok app before posting again.",
                log_id=exc.log_id,
            )
            return
        # TikTok answered with an error: no task was created, so the marker may go and init may run again.
        clear = {"init_started_at": None, "init_token": None, "transfer": None}
        expect = {"init_token": marker, "publish_id": ABSENT}
        if error.pull_fallback and transfer == "pull" and uploadable(post):
            fallback = self.posts.update(
                post,
                now=self.clock(),
                expect=expect,
                set_fields={**clear, "source": {**post.source, "pull_refused": True}},
                note=f"pull refused ({error.code}): uploading the file instead",
            )
            if fallback is not None:
                # A second init right away is within TikTok's 6 inits/min/token.
                self._start(fallback, job.fresh())
            return
        if error.retryable and job.attempt < MAX_RETRIES:
            cleared = self.posts.update(post, now=self.clock(), expect=expect, set_fields=clear)
            if cleared is not None:
                floor = min_spacing_s("init") if error.code == "rate_limit_exceeded" else 1.0
                self._requeue(
                    job.retried(), backoff_delay(job.attempt, base=10, cap=RETRY_CAP_S, floor=floor)
                )
            return
        self._fail(post, error, log_id=exc.log_id, expect=expect)


def ambiguous(exc: TikTokError) -> bool:
    """No usable answer from TikTok: the request may have run."""
    if isinstance(exc, TikTokTransportError):
        return True
    # A 5xx without TikTok's error envelope came from something in front of TikTok, not from its API.
    return exc.code.startswith("http_") and (exc.http_status or 0) >= 500


_VIDEO_FIELDS = (
    "title",
    "privacy_level",
    "disable_duet",
    "disable_comment",
    "disable_stitch",
    "video_cover_timestamp_ms",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
_PHOTO_FIELDS = (
    "title",
    "description",
    "privacy_level",
    "disable_comment",
    "auto_add_music",
    "brand_content_toggle",
    "brand_organic_toggle",
)


def _video_post_info(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info[k] for k in _VIDEO_FIELDS if info.get(k) is not None}


def _photo_post_info(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info[k] for k in _PHOTO_FIELDS if info.get(k) is not None}
