"""The publish worker: one SQS job moves one post one step along queued -> uploading -> processing -> done.

Never twice (DESIGN.md §5.3). TikTok's init is the only call that creates something, and it is not
idempotent, so the post row guards it:

1. Before calling init, the worker writes an *init marker* (init_started_at + a random init_token) with a
   condition: status queued, no publish_id, no marker. Only one worker can win that write, ever, per attempt.
2. It calls init once (the client never retries init).
3. The moment init answers, publish_id is written, conditional on the marker still being ours.

A worker killed between 1 and 3 leaves the marker without a publish_id. Whoever sees that state next cannot
know whether TikTok created a task, so it NEVER calls init again: within INIT_LEASE_S it waits (the first
worker may still be running), after that the post becomes `unconfirmed` (a webhook can still settle it).
A definite refusal from TikTok (an answer carrying its error envelope: 4xx, 429, envelope 5xx) proves no task
exists, so the marker is cleared and a retry or the FILE_UPLOAD fallback may init again; a missing or
unreadable answer (timeout, reset, HTML 502) is treated like the crash: unconfirmed.
After publish_id is stored nothing calls init for that task: an upload resumes from TikTok's Content-Range,
processing is polled. Re-initialising is only done when TikTok itself reports the old task dead (FAILED with
a pull failure, or an upload_url that expired before the last chunk, when no video can come out of it).

Waiting never sleeps in Lambda: the next step is a new SQS message with DelaySeconds.

An `unconfirmed` post whose task TikTok knows (polling timed out, or a status error we gave up on, with a
publish_id stored) is reconciled: a RECONCILE job asks TikTok's status once every RECONCILE_DELAY_S and
settles it as published / inbox / failed, conditional on it still being `unconfirmed` with that publish_id
(a webhook racing it cannot both win), until RECONCILE_WINDOW_S. It never calls init: nothing is re-posted.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from tiktok_publisher.domain.chunks import ChunkPlan, plan_chunks
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.jobs import RECONCILE, Job
from tiktok_publisher.domain.posts import ABSENT, TERMINAL, Post, PostStatus
from tiktok_publisher.domain.status import (
    DONE,
    EVENT_OF_STATUS,
    RECONCILE_DELAY_S,
    STATUS_TIME_LIMIT_S,
    error_record,
    event_detail,
    poll_delay,
    reconcile_open,
    reconcile_until,
)
from tiktok_publisher.domain.taxonomy import (
    UPLOAD_NOT_FOUND,
    UPLOAD_URL_EXPIRED,
    ErrorClass,
    ErrorInfo,
    backoff_delay,
    classify,
    min_spacing_s,
)
from tiktok_publisher.domain.tiktok import InitResult, PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError, TikTokTransportError
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import (
    Accounts,
    Events,
    JobQueue,
    MediaStore,
    Posts,
    PullUrls,
    TikTokContent,
    Tokens,
)
from tiktok_publisher.publishing.transfer import (
    ChunkUploader,
    ContinuousSource,
    UploadInterrupted,
    UploadPaused,
)

# A worker holding the init marker finishes init well within this (client timeouts are 3 s + 15 s).
INIT_LEASE_S = 120
MAX_RETRIES = 8  # per step, for 429/5xx/transport, with exponential backoff up to RETRY_CAP_S
RETRY_CAP_S = 900
MAX_REINITS = 3  # fresh inits after TikTok reported the previous task dead
ACTIVE = frozenset({PostStatus.QUEUED, PostStatus.UPLOADING, PostStatus.PROCESSING})
NOT_TERMINAL = (*ACTIVE, "awaiting_upload", "scheduled")


class Seams:
    """Points where tests inject a crash (an exception) to prove the worker resumes without re-posting.
    Production uses these no-ops."""

    def after_init_call(self, post: Post) -> None:
        """TikTok answered init; publish_id is not stored yet."""

    def after_init(self, post: Post) -> None:
        """publish_id is stored."""

    def after_chunk(self, post: Post, next_index: int) -> None:
        """TikTok acknowledged chunks up to next_index - 1; our progress is not stored yet."""

    def after_upload(self, post: Post) -> None:
        """TikTok has every byte; the post is still `uploading`."""


class _StepEnded(Exception):
    """This step ends here (a delayed job was sent, or the post was settled)."""


@dataclass
class PublishWorker:
    posts: Posts
    accounts: Accounts
    client: TikTokContent
    media: MediaStore
    queue: JobQueue
    events: Events
    pull: PullUrls
    refresher: Tokens  # access tokens: the shared refresh path (DESIGN.md §6)
    clock: Callable[[], float] = time.time
    seams: Seams = field(default_factory=Seams)
    sleep: Callable[[float], None] = time.sleep
    # Seconds left in the current invocation (the handler sets it from the Lambda context).
    time_left: Callable[[], float] = lambda: float("inf")

    # ------------------------------------------------------------------ entry

    def handle(self, job: Job) -> None:
        """Do whatever the post's state calls for. Safe to run twice, concurrently or late."""
        try:
            post = self.posts.get(job.tenant_id, job.post_id)
        except NotFound:
            logger.warning("job for unknown post dropped", extra={"post_id": job.post_id})
            return
        logger.append_keys(post_id=post.post_id, open_id=post.open_id)
        try:
            if job.kind == RECONCILE:
                self._reconcile(post, job)
            elif post.status not in ACTIVE:
                logger.info("nothing to do", extra={"status": post.status})
            elif post.status == PostStatus.QUEUED:
                self._start(post, job)
            elif post.status == PostStatus.UPLOADING:
                self._upload(post, job, self._token(post, job))
            else:
                self._poll(post, job)
        except _StepEnded:
            return

    # ------------------------------------------------------------------ init

    def _start(self, post: Post, job: Job) -> None:
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
                image.get("url") or self.pull.url_for(image["s3_key"], now=now) for image in source["images"]
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
            url = self.pull.url_for(source["s3_key"], now=now)
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

    def _init_refused(self, post: Post, job: Job, marker: str, transfer: str, exc: TikTokError) -> None:
        error = classify(exc.code, exc.http_status)
        if _ambiguous(exc):
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
        if error.pull_fallback and transfer == "pull" and _uploadable(post):
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

    # ------------------------------------------------------------------ FILE_UPLOAD

    def _upload(self, post: Post, job: Job, token: str) -> None:
        progress = dict(post.upload_progress)
        plan = ChunkPlan(
            int(progress["video_size"]), int(progress["chunk_size"]), int(progress["total_chunk_count"])
        )
        publish_id = post.publish_id

        def on_chunk(next_index: int) -> None:
            self.seams.after_chunk(post, next_index)
            progress["uploaded_chunks"] = next_index
            self.posts.update(
                post,
                now=self.clock(),
                expect_status={PostStatus.UPLOADING},
                expect={"publish_id": publish_id},
                set_fields={"upload_progress": progress},
            )

        source = ContinuousSource(self.media)
        uploader = ChunkUploader(self.client, source, sleep=self.sleep, time_left=self.time_left)
        try:
            uploader.upload(
                str(progress["upload_url"]),
                str(post.source["s3_key"]),
                plan,
                content_type=str(progress.get("content_type") or "video/mp4"),
                start_index=int(progress.get("uploaded_chunks") or 0),
                on_chunk=on_chunk,
            )
        except UploadInterrupted as exc:
            self._upload_interrupted(post, job, token, exc)
            return
        except UploadPaused:
            self._requeue(job, 0)  # progress is stored; the next invocation goes on from there
        finally:
            source.close()
        self.seams.after_upload(post)
        self._uploaded(post, job, progress)

    def _uploaded(self, post: Post, job: Job, progress: dict[str, Any]) -> None:
        now = self.clock()
        moved = self.posts.update(
            post,
            now=now,
            status=PostStatus.PROCESSING,
            expect_status={PostStatus.UPLOADING},
            expect={"publish_id": post.publish_id},
            set_fields={
                "upload_progress": {**progress, "uploaded_chunks": progress["total_chunk_count"]},
                "status_deadline": int(now) + STATUS_TIME_LIMIT_S,
            },
            note="all bytes uploaded",
        )
        if moved is not None:
            self._requeue(job.fresh(), poll_delay(0))

    def _upload_interrupted(self, post: Post, job: Job, token: str, exc: UploadInterrupted) -> None:
        error = exc.error
        if error.code in {UPLOAD_URL_EXPIRED, UPLOAD_NOT_FOUND}:
            # The upload is gone at TikTok. If TikTok had every byte (a worker killed after the last chunk),
            # the task goes on: poll it. Otherwise no video can come out of it and a fresh init is safe.
            status = self._status_or_none(post, token)
            if status is not None and (
                status.status != PublishStatusValue.PROCESSING_UPLOAD
                or (status.uploaded_bytes or 0) >= int(post.upload_progress["video_size"])
            ):
                self._uploaded(post, job, dict(post.upload_progress))
                return
            self._reinit(post, job, error)
            return
        if error.retryable and job.attempt < MAX_RETRIES:
            self._requeue(job.retried(), backoff_delay(job.attempt, base=5, cap=RETRY_CAP_S, floor=1))
        self._fail(post, error, expect={"publish_id": post.publish_id})

    def _status_or_none(self, post: Post, token: str) -> Any:
        try:
            return self.client.fetch_status(token, str(post.publish_id))
        except TikTokError:
            return None

    # ------------------------------------------------------------------ status

    def _poll(self, post: Post, job: Job) -> None:
        now = self.clock()
        if post.status_deadline is not None and now > post.status_deadline:
            self._unconfirmed_until_reconciled(
                post,
                job,
                "status_timeout",
                "TikTok has not finished processing this post in time. It will not be sent again; its final "
                "state will be updated when TikTok reports it (it is checked again for up to 72 hours).",
            )
            return
        token = self._token(post, job)
        try:
            status = self.client.fetch_status(token, str(post.publish_id))
        except TikTokError as exc:
            error = classify(exc.code, exc.http_status)
            if error.retryable and job.attempt < MAX_RETRIES:
                self._requeue(job.retried(), max(poll_delay(job.poll), min_spacing_s("status")))
            self._unconfirmed_until_reconciled(post, job, error.code, error.message, log_id=exc.log_id)
            return
        done = DONE.get(status.status)
        if done is not None:
            final, _event = done
            self._finish(
                post, final, set_fields={"post_ids": list(status.post_ids)}, note=status.status.value
            )
        elif status.status == PublishStatusValue.FAILED:
            self._tiktok_failed(post, job, status.fail_reason)
        else:
            self._requeue(job.polled(), poll_delay(job.poll + 1))

    def _tiktok_failed(self, post: Post, job: Job, reason: str | None) -> None:
        error = classify(reason or "unknown")
        if error.error_class is ErrorClass.CANCELLED:
            self._finish(
                post, PostStatus.CANCELLED, note=error.code, set_fields={"fail_reason": error_record(error)}
            )
            return
        if post.transfer == "pull" and error.retryable and post.attempts < MAX_REINITS:
            # TikTok's task is FAILED (dead): a new one cannot duplicate it.
            self._reinit(post, job, error)
            return
        self._fail(post, error, expect={"publish_id": post.publish_id})

    def _reinit(self, post: Post, job: Job, error: ErrorInfo) -> None:
        if post.attempts >= MAX_REINITS:
            self._fail(post, error, expect={"publish_id": post.publish_id})
            return
        source = dict(post.source)
        if error.pull_fallback and _uploadable(post):
            source["pull_refused"] = True
        again = self.posts.update(
            post,
            now=self.clock(),
            status=PostStatus.QUEUED,
            expect_status={PostStatus.UPLOADING, PostStatus.PROCESSING},
            expect={"publish_id": post.publish_id},
            set_fields={
                "publish_id": None,
                "init_started_at": None,
                "init_token": None,
                "upload_progress": None,
                "status_deadline": None,
                "transfer": None,
                "source": source,
                "attempts": post.attempts + 1,
            },
            note=f"tiktok task {post.publish_id} ended ({error.code}); starting a new one",
        )
        if again is not None:
            self._requeue(job.fresh(), min_spacing_s("init"))

    # ------------------------------------------------------------------ reconcile (unconfirmed)

    def _unconfirmed_until_reconciled(
        self, post: Post, job: Job, code: str, message: str, *, log_id: str | None = None
    ) -> None:
        """Settle as `unconfirmed`; TikTok knows this publish_id, so a reconcile job asks it again later."""
        if not post.publish_id:
            self._settle_unconfirmed(post, code, message, log_id=log_id)
            return
        settled = self._settle_unconfirmed(
            post,
            code,
            message,
            log_id=log_id,
            expect={"publish_id": post.publish_id},
            set_fields={"reconcile_until": reconcile_until(self.clock())},
        )
        if settled is not None:
            self._requeue(job.reconciling(), RECONCILE_DELAY_S)

    def _reconcile(self, post: Post, job: Job) -> None:
        """Ask TikTok once about an `unconfirmed` post: settle it, ask again later, or leave it for good.
        Never init: whatever TikTok says, nothing is posted again."""
        if post.status != PostStatus.UNCONFIRMED or not post.publish_id:
            logger.info("nothing to reconcile", extra={"status": post.status})
            return
        if not reconcile_open(post.reconcile_until, self.clock()):
            logger.warning(
                "reconcile window over: the post stays unconfirmed", extra={"publish_id": post.publish_id}
            )
            return
        try:
            token = self._access_token(post)
        except (AccountNeedsReconnect, NotFound, UpstreamError) as exc:
            self._reconcile_later(job, type(exc).__name__)
        try:
            status = self.client.fetch_status(token, post.publish_id)
        except TikTokError as exc:
            error = classify(exc.code, exc.http_status)
            if error.retryable:
                self._reconcile_later(job, error.code)
            logger.warning(
                "reconcile refused by TikTok: the post stays unconfirmed",
                extra={"code": error.code, "log_id": exc.log_id},
            )
            return
        expect = {"publish_id": post.publish_id}
        done = DONE.get(status.status)
        if done is not None:
            fields: dict[str, Any] = {"post_ids": list(status.post_ids), "fail_reason": None}
            note = f"reconciled: {status.status.value}"
            self._finish(
                post,
                done[0],
                set_fields=fields,
                note=note,
                expect=expect,
                expect_status={PostStatus.UNCONFIRMED},
            )
        elif status.status == PublishStatusValue.FAILED:
            error = classify(status.fail_reason or "unknown")
            fields = {"fail_reason": error_record(error)}
            note = f"reconciled: {error.code}"
            self._finish(
                post,
                PostStatus.FAILED,
                set_fields=fields,
                note=note,
                expect=expect,
                expect_status={PostStatus.UNCONFIRMED},
            )
        else:
            self._reconcile_later(job, status.status.value)

    def _reconcile_later(self, job: Job, why: str) -> NoReturn:
        logger.info("reconcile: asking TikTok again later", extra={"reason": why})
        self._requeue(job.reconciling(), RECONCILE_DELAY_S)

    # ------------------------------------------------------------------ outcomes

    def _access_token(self, post: Post) -> str:
        """A live access token (refreshed on demand), or AccountNeedsReconnect / NotFound / UpstreamError."""
        account = self.accounts.get(post.tenant_id, post.open_id)
        if account.status != "active":
            raise AccountNeedsReconnect(f"account is {account.status}")
        return self.refresher.ensure_fresh_token(post.tenant_id, post.open_id, now=int(self.clock()))

    def _token(self, post: Post, job: Job) -> str:
        """A live access token (refreshed on demand); else the step ends (requeued, or post settled)."""
        try:
            return self._access_token(post)
        except (AccountNeedsReconnect, NotFound):
            self._give_up(post, classify("access_token_invalid"))
        except UpstreamError:
            if job.attempt < MAX_RETRIES:
                self._requeue(job.retried(), backoff_delay(job.attempt, base=5, cap=RETRY_CAP_S, floor=1))
            self._give_up(post, classify("transport"))
        raise _StepEnded  # the step ended (settled above)

    def _give_up(self, post: Post, error: ErrorInfo) -> None:
        if post.publish_id or post.init_started_at is not None:
            self._settle_unconfirmed(post, error.code, error.message)
        else:
            self._fail(post, error, expect={"publish_id": ABSENT, "init_started_at": ABSENT})

    def _fail(
        self, post: Post, error: ErrorInfo, *, log_id: str | None = None, expect: dict[str, Any]
    ) -> None:
        self._finish(
            post,
            PostStatus.FAILED,
            set_fields={"fail_reason": error_record(error, log_id=log_id)},
            note=error.code,
            expect=expect,
        )

    def _settle_unconfirmed(
        self,
        post: Post,
        code: str,
        message: str,
        *,
        log_id: str | None = None,
        expect: dict[str, Any] | None = None,
        set_fields: dict[str, Any] | None = None,
    ) -> Post | None:
        record = {"class": str(ErrorClass.UNKNOWN), "code": code, "message": message, "log_id": log_id}
        fields = {"fail_reason": record, **(set_fields or {})}
        return self._finish(post, PostStatus.UNCONFIRMED, set_fields=fields, note=code, expect=expect)

    def _finish(
        self,
        post: Post,
        status: str,
        *,
        set_fields: dict[str, Any] | None = None,
        note: str,
        expect: dict[str, Any] | None = None,
        expect_status: Iterable[str] = NOT_TERMINAL,
    ) -> Post | None:
        """Move to a final status once (conditional on the expected statuses, by default any not terminal)
        and announce it. Returns the post as stored, or None when another writer got there first."""
        done = self.posts.update(
            post,
            now=self.clock(),
            status=status,
            expect_status=expect_status,
            expect=expect,
            set_fields=set_fields,
            note=note,
        )
        if done is None:
            return None
        logger.info("post settled", extra={"status": status, "publish_id": done.publish_id})
        event = EVENT_OF_STATUS.get(status)
        if event is not None:
            self.events.publish(event, event_detail(done), tenant_id=done.tenant_id)
        return done

    def _requeue(self, job: Job, delay: float) -> NoReturn:
        self.queue.send(job, delay=delay)
        logger.info(
            "step deferred", extra={"delay_s": round(delay, 1), "attempt": job.attempt, "poll": job.poll}
        )
        raise _StepEnded


def _ambiguous(exc: TikTokError) -> bool:
    """No usable answer from TikTok: the request may have run."""
    if isinstance(exc, TikTokTransportError):
        return True
    # A 5xx without TikTok's error envelope came from something in front of TikTok, not from its API.
    return exc.code.startswith("http_") and (exc.http_status or 0) >= 500


def _uploadable(post: Post) -> bool:
    return post.media == "video" and bool(post.source.get("s3_key"))


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


__all__ = ["TERMINAL", "PublishWorker", "Seams"]
