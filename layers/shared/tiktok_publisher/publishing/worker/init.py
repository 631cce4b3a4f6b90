"""Step 1, init: the init marker, TikTok's init called once, publish_id stored the moment it answers; a
definite refusal clears the marker, an ambiguous one settles `unconfirmed` (never a second init).

Before the marker: a scheduled direct post re-reads creator_info (rules may have changed since it was
scheduled), and the init takes a slot of TikTok's 6 inits/min/token shared by every worker.
"""

from __future__ import annotations

import secrets
from typing import Any, NoReturn

from tiktok_publisher.domain.chunks import plan_upload
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import MediaPin
from tiktok_publisher.domain.post_validation import rules_at_dispatch, tightened_post_info
from tiktok_publisher.domain.posts import ABSENT, Post, PostStatus
from tiktok_publisher.domain.status import (
    STATUS_TIME_LIMIT_S,
    poll_delay,
)
from tiktok_publisher.domain.taxonomy import (
    ErrorClass,
    backoff_delay,
    chunk_refusal,
    classify,
    is_chunk_refusal,
    min_spacing_s,
    rules_changed,
)
from tiktok_publisher.domain.tiktok import CreatorInfo, InitResult
from tiktok_publisher.domain.tiktok_errors import TikTokError, TikTokTransportError, token_rejected
from tiktok_publisher.observability import logger
from tiktok_publisher.publishing.worker.base import (
    INIT_LEASE_S,
    MAX_RETRIES,
    RETRY_CAP_S,
    StepEnded,
    WorkerBase,
    uploadable,
)

NOT_STARTED = {"publish_id": ABSENT, "init_started_at": ABSENT}


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
        if due_for_rules_check(post):
            post, token = self._rules_at_dispatch(post, job, token)
        transfer, request = self._init_request(post, now)
        self._pace(post, job, "init")
        marker = secrets.token_hex(16)
        marked = self.posts.update(
            post,
            now=now,
            expect_status={PostStatus.QUEUED},
            expect=NOT_STARTED,
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
                self._init_refused(marked, job, marker, transfer, request, exc)
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

    # ------------------------------------------------------------------ rules at dispatch

    def _rules_at_dispatch(self, post: Post, job: Job, token: str) -> tuple[Post, str]:
        """A scheduled direct post, days after it was checked: read creator_info again and fail early with
        each rule that no longer holds (privacy option gone, duration over the new maximum, the creator
        unable to post now). Interactions the creator turned off meanwhile are sent disabled. A token TikTok
        refuses early is replaced once (forced refresh); the token that worked goes on to init."""
        used = [token]

        def ask(access: str) -> CreatorInfo:
            self._pace(post, job, "creator_info")  # the retry with a replaced token takes its own slot
            used.append(access)
            return self.client.creator_info(access)

        try:
            creator = self._call_with(
                post,
                token,
                ask,
                token_failed=lambda failure, refusal: self._token_failed(
                    post, job, failure, log_id=refusal.log_id
                ),
            )
        except TikTokError as exc:
            self._creator_info_refused(post, job, exc)
            raise StepEnded from None
        problems = rules_at_dispatch(
            post.post_info,
            creator,
            media_type=post.media,
            audited=self.audited,
            video_duration_s=_duration_s(post),
        )
        if problems:
            logger.info("scheduled post no longer allowed", extra={"rules": [p.type for p in problems]})
            self._fail(post, rules_changed([p.message for p in problems]), expect=NOT_STARTED)
            raise StepEnded
        checked = self.posts.update(
            post,
            now=self.clock(),
            expect_status={PostStatus.QUEUED},
            # The version read: of two deliveries of the same job, one goes on to init, the other ends here
            # (it would only take init slots the first one needs).
            expect={**NOT_STARTED, "version": post.version},
            set_fields={
                "post_info": tightened_post_info(post.post_info, creator, media_type=post.media),
                "source": {**post.source, "rules_checked_at": int(self.clock())},
            },
            note="creator_info read again at dispatch: the post is still allowed",
        )
        if checked is None:
            self._after_lost_rules_check(post, job)
        return checked, used[-1]

    def _after_lost_rules_check(self, post: Post, job: Job) -> NoReturn:
        """The post changed between its read and the rules check's write. Cancelled, or another delivery of
        the job checked it first (it carries rules_checked_at and goes on to init): this one ends. Anything
        else that bumped its version leaves it queued and unchecked (the dispatcher writes the post once more
        right after enqueueing it, to take it out of the scheduled index): the job comes back at once, to
        read it again, so the post is never left waiting."""
        fresh = self.posts.get(post.tenant_id, post.post_id)
        if (
            fresh.status == PostStatus.QUEUED
            and not fresh.source.get("rules_checked_at")
            and fresh.publish_id is None
            and fresh.init_started_at is None
            and job.attempt < MAX_RETRIES
        ):
            logger.info("the post changed while its rules were checked; checking again")
            self._requeue(job.retried(), 1)
        logger.info("the post changed while its rules were checked (cancelled, or another delivery)")
        raise StepEnded

    def _creator_info_refused(self, post: Post, job: Job, exc: TikTokError) -> None:
        error = classify(exc.code, exc.http_status, tiktok_message=exc.message)
        if error.retryable and job.attempt < MAX_RETRIES:
            floor = min_spacing_s("creator_info")
            self._requeue(job.retried(), backoff_delay(job.attempt, base=5, cap=RETRY_CAP_S, floor=floor))
        if error.error_class is ErrorClass.QUOTA:
            logger.info("creator cannot post now", extra={"code": error.code, "log_id": exc.log_id})
        self._fail(post, error, log_id=exc.log_id, expect=NOT_STARTED)

    # ------------------------------------------------------------------ the init request

    def _init_request(self, post: Post, now: float) -> tuple[str, dict[str, Any]]:
        """Which transfer and what init body (DESIGN.md §5.2)."""
        source = post.source
        if post.media == "photo":
            urls = [
                image.get("url")
                or self.pull.url_for(image["s3_key"], now=now, pin=MediaPin.from_source(image))
                for image in source["images"]
            ]
            body = {
                "media_type": "PHOTO",
                "post_mode": "DIRECT_POST" if post.mode == "direct" else "MEDIA_UPLOAD",
                "post_info": photo_post_info(post.post_info),
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
        plan = plan_upload(int(source["size"]), single_chunk_max=self.single_chunk_max)
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

    # ------------------------------------------------------------------ refusals

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

    def _init_refused(
        self, post: Post, job: Job, marker: str, transfer: str, request: dict[str, Any], exc: TikTokError
    ) -> None:
        error = classify(exc.code, exc.http_status, tiktok_message=exc.message)
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
        if transfer == "upload" and _multi_chunk(request) and is_chunk_refusal(exc.code, exc.message):
            self._chunks_refused(post, job, expect, clear, exc)
            return
        if error.pull_fallback and transfer == "pull" and uploadable(post):
            fallback = self.posts.update(
                post,
                now=self.clock(),
                expect=expect,
                set_fields={**clear, "source": {**post.source, "pull_refused": error.code}},
                note=f"pull refused ({error.code}): uploading the file instead",
            )
            if fallback is not None:
                self._start(fallback, job.fresh())  # its init takes its own paced slot
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

    def _chunks_refused(
        self, post: Post, job: Job, expect: dict[str, Any], clear: dict[str, Any], exc: TikTokError
    ) -> None:
        """TikTok refused a multi-chunk plan ("The chunk size is invalid", seen since 2026-08). With a
        verified media domain TikTok can pull the video instead, unless it already refused that domain;
        otherwise the post fails with TikTok's words and what to do."""
        source = {**post.source, "chunks_refused": True}
        if self.pull.enabled and post.source.get("pull_refused") != "url_ownership_unverified":
            source.pop("pull_refused", None)  # a failed download may pass now; a refused domain would not
            fallback = self.posts.update(
                post,
                now=self.clock(),
                expect=expect,
                set_fields={**clear, "source": source},
                note="multi-chunk upload refused by TikTok: TikTok pulls the video instead",
            )
            if fallback is not None:
                self._start(fallback, job.fresh())
            return
        logger.warning("multi-chunk upload refused by TikTok", extra={"log_id": exc.log_id})
        self._fail(
            post,
            chunk_refusal(exc.message, exc.http_status),
            log_id=exc.log_id,
            expect=expect,
        )


def due_for_rules_check(post: Post) -> bool:
    """A scheduled direct post whose creator_info has not been read again since it was scheduled."""
    return post.mode == "direct" and post.publish_at is not None and not post.source.get("rules_checked_at")


def ambiguous(exc: TikTokError) -> bool:
    """No usable answer from TikTok: the request may have run."""
    if isinstance(exc, TikTokTransportError):
        return True
    # A 5xx without TikTok's error envelope came from something in front of TikTok, not from its API.
    return exc.code.startswith("http_") and (exc.http_status or 0) >= 500


def _multi_chunk(request: dict[str, Any]) -> bool:
    return int(request.get("source_info", {}).get("total_chunk_count") or 0) > 1


def _duration_s(post: Post) -> float | None:
    probe = post.source.get("probe") or {}
    value = probe.get("duration_s")
    return float(value) if value is not None else None


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


def photo_post_info(info: dict[str, Any]) -> dict[str, Any]:
    """The photo init's post_info: never empty. TikTok refuses a photo init whose post_info is `{}` with
    invalid_params "The request post info is empty or incorrect" (TIKTOK-API.md §6, drafts included), so a
    post that stored nothing sendable (a draft with no title, from before post_info was always filled) gets
    an empty title and description, which TikTok accepts."""
    sent = {k: info[k] for k in _PHOTO_FIELDS if info.get(k) is not None}
    return sent or {"title": "", "description": ""}
