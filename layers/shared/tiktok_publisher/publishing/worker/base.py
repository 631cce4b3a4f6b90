"""What every step of the publish worker shares: its ports, its limits, the crash seams, and the outcomes a
step ends with (settled, failed, unconfirmed, or deferred as a delayed SQS message: never a sleep)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

from tiktok_publisher.domain.chunks import SINGLE_CHUNK_MAX
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import MEDIA_REPLACED, MEDIA_REPLACED_MESSAGE, MediaPin
from tiktok_publisher.domain.posts import ABSENT, Post, PostStatus
from tiktok_publisher.domain.status import (
    EVENT_OF_STATUS,
    error_record,
    event_detail,
)
from tiktok_publisher.domain.taxonomy import (
    ErrorClass,
    ErrorInfo,
    backoff_delay,
    classify,
    settled,
)
from tiktok_publisher.domain.tiktok_errors import TikTokError, token_rejected
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import (
    Accounts,
    CallPacer,
    Events,
    JobQueue,
    MediaStore,
    Posts,
    PullUrls,
    TikTokContent,
    Tokens,
)

# A worker holding the init marker finishes init well within this (client timeouts are 3 s + 15 s).
INIT_LEASE_S = 120
MAX_RETRIES = 8  # per step, for 429/5xx/transport, with exponential backoff up to RETRY_CAP_S
RETRY_CAP_S = 900
T = TypeVar("T")
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


class StepEnded(Exception):
    """This step ends here (a delayed job was sent, or the post was settled)."""


@dataclass
class WorkerBase:
    posts: Posts
    accounts: Accounts
    client: TikTokContent
    media: MediaStore
    queue: JobQueue
    events: Events
    pull: PullUrls
    refresher: Tokens  # access tokens: the shared refresh path (DESIGN.md §6)
    pacer: CallPacer  # TikTok's per-token limits, shared by every worker (domain/pacing.py)
    audited: bool = False  # whether TikTok audited the app (rules re-checked at dispatch)
    # The largest video sent as one chunk: TikTok's 64,000,000 (domain/chunks.py); lower only in tests that
    # exercise multi-chunk uploads with small files.
    single_chunk_max: int = SINGLE_CHUNK_MAX
    clock: Callable[[], float] = time.time
    seams: Seams = field(default_factory=Seams)
    sleep: Callable[[float], None] = time.sleep
    # Seconds left in the current invocation (the handler sets it from the Lambda context).
    time_left: Callable[[], float] = lambda: float("inf")

    # The steps hand over to each other (an init that got an upload_url uploads at once, an upload whose task
    # died starts a new one, a poll that times out is reconciled later). Declared here, defined by their step.

    def _start(self, post: Post, job: Job, *, token_replaced: bool = False) -> None:
        raise NotImplementedError

    def _upload(self, post: Post, job: Job, token: str) -> None:
        raise NotImplementedError

    def _poll(self, post: Post, job: Job) -> None:
        raise NotImplementedError

    def _reinit(self, post: Post, job: Job, error: ErrorInfo) -> None:
        raise NotImplementedError

    def _unconfirmed_until_reconciled(
        self, post: Post, job: Job, code: str, message: str, *, log_id: str | None = None
    ) -> None:
        raise NotImplementedError

    def _reconcile(self, post: Post, job: Job) -> None:
        raise NotImplementedError

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
        except (AccountNeedsReconnect, NotFound, UpstreamError) as exc:
            self._token_failed(post, job, exc)

    def _token_failed(self, post: Post, job: Job, exc: Exception, *, log_id: str | None = None) -> NoReturn:
        """No token could be had: the grant is dead or the account gone (the post fails, or stays
        unconfirmed once TikTok may have it), or TikTok / the refresh lease is busy (retried later).
        `log_id`: TikTok's, when a refusal of the token by TikTok led here."""
        if isinstance(exc, UpstreamError):
            if job.attempt < MAX_RETRIES:
                self._requeue(job.retried(), backoff_delay(job.attempt, base=5, cap=RETRY_CAP_S, floor=1))
            self._give_up(post, classify("transport"), log_id=log_id)
        else:
            self._give_up(post, classify("access_token_invalid"), log_id=log_id)
        raise StepEnded  # the step ended (settled above)

    def _pace(self, post: Post, job: Job, call: str) -> None:
        """Take a slot of TikTok's per-token limit for `call`, or end the step: the same job comes back when
        a slot frees up (an SQS delay, not a retry, and never a sleep)."""
        wait = self.pacer.reserve(post.tenant_id, post.open_id, call, now=self.clock())
        if wait > 0:
            count("TikTokCallsPaced")
            logger.info("tiktok call paced", extra={"call": call, "wait_s": round(wait, 2)})
            self._requeue(job, math.ceil(wait))

    def _media_replaced(self, post: Post) -> bool:
        """True (and the post settled) when the S3 object is no longer the version that was probed: a leaked
        upload URL replaced it, or it was deleted. What TikTok gets must be what was checked."""
        pin = MediaPin.from_source(post.source)
        if pin is None or not uploadable(post):
            return False
        if pin.matches(self.media.head(str(post.source["s3_key"]))):
            return False
        logger.warning(
            "media replaced after probing; not publishing", extra={"s3_key": post.source["s3_key"]}
        )
        error = ErrorInfo(MEDIA_REPLACED, ErrorClass.FIX_MEDIA, MEDIA_REPLACED_MESSAGE)
        if post.publish_id or post.init_started_at is not None:
            # TikTok may hold part of the upload already: settle, never start again.
            self._fail(post, error, expect={"publish_id": post.publish_id} if post.publish_id else {})
        else:
            self._fail(post, error, expect={"publish_id": ABSENT, "init_started_at": ABSENT})
        return True

    def _replacement_token(self, post: Post, rejected: str) -> str:
        """TikTok refused `rejected` before its stated expiry: one forced refresh of exactly that token,
        shared with every other caller that saw it refused (refresh/core.py). Raises as ensure_fresh_token."""
        logger.warning("tiktok refused the access token early", extra={"open_id": post.open_id})
        return self.refresher.replace_rejected_token(
            post.tenant_id, post.open_id, rejected, now=int(self.clock())
        )

    def _call_with(
        self,
        post: Post,
        token: str,
        call: Callable[[str], T],
        *,
        token_failed: Callable[[Exception, TikTokError], NoReturn],
    ) -> T:
        """`call(token)` for a call that creates nothing (status): if TikTok answers access_token_invalid,
        once more with a replacement token. The second answer stands (TikTokError propagates); a failure to
        get the replacement goes to `token_failed(failure, tiktoks_refusal)`, which ends the step."""
        try:
            return call(token)
        except TikTokError as exc:
            if not token_rejected(exc):
                raise
            refusal = exc
        try:
            fresh = self._replacement_token(post, token)
        except (AccountNeedsReconnect, NotFound, UpstreamError) as exc:
            token_failed(exc, refusal)
        return call(fresh)

    def _give_up(self, post: Post, error: ErrorInfo, *, log_id: str | None = None) -> None:
        error = settled(error, media=post.media)
        if post.publish_id or post.init_started_at is not None:
            self._settle_unconfirmed(post, error.code, error.message, log_id=log_id)
        else:
            self._fail(post, error, log_id=log_id, expect={"publish_id": ABSENT, "init_started_at": ABSENT})

    def _fail(
        self, post: Post, error: ErrorInfo, *, log_id: str | None = None, expect: dict[str, Any]
    ) -> None:
        """The post failed for good: its message says so truthfully for its media type (taxonomy.settled)."""
        error = settled(error, media=post.media)
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
        raise StepEnded


def uploadable(post: Post) -> bool:
    """A video whose file FILE_UPLOAD can send (ours, in S3, and its chunk plan not refused by TikTok)."""
    return post.media == "video" and bool(post.source.get("s3_key")) and not post.source.get("chunks_refused")
