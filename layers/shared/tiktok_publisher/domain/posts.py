"""A post as the domain sees it: its statuses, its public view, and the marker of an attribute that must not
exist in a conditional change. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tiktok_publisher.domain.taxonomy import ErrorClass


class PostStatus(StrEnum):
    """DESIGN.md §3, plus `unconfirmed`: TikTok may or may not have the post, and we never re-post."""

    AWAITING_UPLOAD = "awaiting_upload"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    INBOX = "inbox"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNCONFIRMED = "unconfirmed"


# No worker step applies to a post in one of these.
TERMINAL = frozenset(
    {PostStatus.INBOX, PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.CANCELLED, PostStatus.UNCONFIRMED}
)
HISTORY_LIMIT = 50


def iso_now(now: float) -> str:
    """ISO-8601 UTC with milliseconds: sorts as text, which the by_account index relies on."""
    stamp = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass
class Post:
    """One post as the domain sees it (no PynamoDB types)."""

    tenant_id: str
    post_id: str
    open_id: str
    created_at: str
    mode: str
    media: str
    status: PostStatus
    source: dict[str, Any] = field(default_factory=dict)
    post_info: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    upload_id: str | None = None
    publish_id: str | None = None
    transfer: str | None = None
    upload_progress: dict[str, Any] = field(default_factory=dict)
    fail_reason: dict[str, Any] | None = None
    post_ids: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    version: int = 0
    updated_at: str | None = None
    init_started_at: int | None = None
    init_token: str | None = None
    status_deadline: int | None = None
    reconcile_until: int | None = None
    publish_at: int | None = None
    # Attempts before the current one (POST /v1/posts/{post_id}/retry), oldest first; `attempts` above counts
    # the fresh TikTok tasks of the current attempt.
    past_attempts: list[dict[str, Any]] = field(default_factory=list)
    # After the post (domain/metrics.py): the latest reading, when TikTok may be asked again, since when the
    # snapshot schedule follows the post, and whether it does now (the metrics_due index).
    metrics: dict[str, Any] | None = None
    metrics_next_at: int | None = None
    metrics_since: int | None = None
    metrics_tracked: bool = False

    @property
    def terminal(self) -> bool:
        """No worker step applies any more."""
        return self.status in TERMINAL

    def to_api(self) -> dict[str, Any]:
        """The public view: no upload URL (a capability), no internal markers."""
        progress = {k: v for k, v in self.upload_progress.items() if k != "upload_url"}
        return {
            "post_id": self.post_id,
            "open_id": self.open_id,
            "mode": self.mode,
            "media_type": self.media,
            "status": self.status,
            "source": _public_source(self.source),
            "post_info": self.post_info,
            "publish_id": self.publish_id,
            "transfer": self.transfer,
            "upload_progress": progress or None,
            "error": self.fail_reason,
            "post_ids": list(self.post_ids),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "history": self.history,
            "publish_at": self.publish_at,
            "attempts": attempts_view(self),
            "retry": retry_view(self),
            "metrics": reading_view(self.metrics),
        }


def _public_source(source: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if k not in {"pull_refused"}}


def iso_epoch(epoch: int | None) -> str | None:
    """Epoch seconds as the API's ISO-8601 UTC text (None stays None)."""
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reading_view(reading: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored metrics reading as the API shows it (its time as ISO text; ids are already strings)."""
    if not reading:
        return None
    return {**reading, "read_at": iso_epoch(reading.get("read_at"))}


# ------------------------------------------------------------------ attempts and retry

# A `failed` post may be retried by its owner when a later attempt can get past the failure
# (docs/publishing.md, "Retrying a failed post"); the reason is shown either way. MAX_ATTEMPTS at most.
MAX_ATTEMPTS = 10
RETRY_REASONS: dict[str, tuple[bool, str]] = {
    ErrorClass.RETRY: (True, "TikTok had a temporary problem. A new attempt may go through."),
    ErrorClass.QUOTA: (True, "TikTok's posting limits refused it. Retry once the limit has passed."),
    ErrorClass.RECONNECT: (True, "The account's authorization failed. Retry once the account is connected."),
    ErrorClass.FIX_MEDIA: (False, "TikTok refused the media itself. Create a new post with a fixed file."),
    ErrorClass.APP_NOT_AUDITED: (
        False,
        "TikTok refused these settings for an unaudited app. Create a new post that is private (Only me) "
        "from a private account.",
    ),
    ErrorClass.INVALID_REQUEST: (False, "TikTok refused the request itself. The same post would fail again."),
    ErrorClass.CANCELLED: (False, "The post was cancelled."),
    ErrorClass.UNKNOWN: (
        False,
        "TikTok's answer does not tell whether another attempt could work. Create a new post if you want to "
        "try again.",
    ),
}
UNCONFIRMED_REASON = (
    "TikTok may already have this post: it stopped answering while the post was being started or processed. "
    "It is never sent again, automatically or by a retry. Check the creator's TikTok profile; if the post is "
    "not there, create a new post."
)


@dataclass(frozen=True, slots=True)
class RetryVerdict:
    """Whether POST /v1/posts/{post_id}/retry may start a new attempt, with a stable code and the reason."""

    allowed: bool
    code: str  # retry_allowed | post_unconfirmed | post_not_retryable | too_many_attempts
    reason: str


def retry_verdict(post: Post) -> RetryVerdict:
    """What a retry of this post would do, from the post alone (the account and TikTok are checked later)."""
    if post.status == PostStatus.UNCONFIRMED:
        return RetryVerdict(False, "post_unconfirmed", UNCONFIRMED_REASON)
    if post.status != PostStatus.FAILED:
        return RetryVerdict(
            False, "post_not_retryable", f"The post is {post.status}; only a failed post can be retried."
        )
    if len(post.past_attempts) + 1 >= MAX_ATTEMPTS:
        return RetryVerdict(
            False, "too_many_attempts", f"This post was tried {MAX_ATTEMPTS} times. Create a new post."
        )
    error_class = str((post.fail_reason or {}).get("class") or ErrorClass.UNKNOWN)
    allowed, reason = RETRY_REASONS.get(error_class, RETRY_REASONS[ErrorClass.UNKNOWN])
    return RetryVerdict(allowed, "retry_allowed" if allowed else "post_not_retryable", reason)


def retry_view(post: Post) -> dict[str, Any] | None:
    """The `retry` field of a failed or unconfirmed post: may it be retried, and why (not)."""
    if post.status not in (PostStatus.FAILED, PostStatus.UNCONFIRMED):
        return None
    verdict = retry_verdict(post)
    return {"allowed": verdict.allowed, "code": verdict.code, "reason": verdict.reason}


def ended_attempt(post: Post, *, ended_at: str) -> dict[str, Any]:
    """The record a retry keeps of the attempt it ends (no None values: DynamoDB maps hold them badly)."""
    record = {
        "number": len(post.past_attempts) + 1,
        "status": str(post.status),
        "publish_id": post.publish_id,
        "transfer": post.transfer,
        "error": post.fail_reason,
        "started_at": _attempt_started(post),
        "ended_at": ended_at,
    }
    return {k: v for k, v in record.items() if v is not None}


def attempts_view(post: Post) -> list[dict[str, Any]]:
    """Every attempt of the post, oldest first; the last is the current one."""
    current = {
        "number": len(post.past_attempts) + 1,
        "status": str(post.status),
        "publish_id": post.publish_id,
        "transfer": post.transfer,
        "error": post.fail_reason,
        "started_at": _attempt_started(post),
        "ended_at": post.updated_at if post.terminal else None,
    }
    past = [{"publish_id": None, "transfer": None, "error": None, **a} for a in post.past_attempts]
    return [*past, current]


def _attempt_started(post: Post) -> str:
    return str(post.past_attempts[-1]["ended_at"]) if post.past_attempts else post.created_at


class Absent:
    """Marker for "this attribute must not exist" in expectations."""


ABSENT = Absent()
