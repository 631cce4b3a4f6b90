"""Status polling policy and the terminal outcomes of a post. Pure."""

from __future__ import annotations

from typing import Any

from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.taxonomy import ErrorClass, ErrorInfo
from tiktok_publisher.domain.tiktok import PublishStatusValue

# Growing delays between status polls (seconds): quick at first (small videos finish in seconds), then
# sparse. Well under TikTok's 30 status calls/min/token even for several posts of one account.
POLL_DELAYS = (5, 10, 20, 40, 60, 120, 300, 600, 900)
# After this long in processing we stop polling: the post becomes `unconfirmed` (a webhook may still settle
# it). TikTok downloads pulled media for up to an hour, processing takes minutes; three hours is generous.
STATUS_TIME_LIMIT_S = 3 * 3600
# An `unconfirmed` post that has a publish_id (polling timed out, or a status error we gave up on) is asked
# about once more every RECONCILE_DELAY_S (SQS's longest delay) until RECONCILE_WINDOW_S after it became
# unconfirmed: TikTok retries its webhooks for 72 h, so after that nothing new will be learnt.
RECONCILE_DELAY_S = 900
RECONCILE_WINDOW_S = 72 * 3600

# Fresh tasks after TikTok reported the previous one FAILED with a reason worth another try. A FAILED task is
# dead, so a new one cannot duplicate it (docs/publishing.md, "Exactly once"). Pulls: up to MAX_REINITS (a
# download may fail for passing reasons). Uploads: `internal` (TikTok's own failure) once, never a loop.
MAX_REINITS = 3
MAX_INTERNAL_REINITS = 1

DONE: dict[PublishStatusValue, tuple[str, str]] = {
    PublishStatusValue.PUBLISH_COMPLETE: (PostStatus.PUBLISHED, DetailType.POST_PUBLISHED),
    PublishStatusValue.SEND_TO_USER_INBOX: (PostStatus.INBOX, DetailType.POST_SENT_TO_INBOX),
}
EVENT_OF_STATUS = {
    PostStatus.PUBLISHED: DetailType.POST_PUBLISHED,
    PostStatus.INBOX: DetailType.POST_SENT_TO_INBOX,
    PostStatus.FAILED: DetailType.POST_FAILED,
}


def restarts_after_failure(post: Post, error: ErrorInfo) -> bool:
    """Does the worker start a fresh task for `post` after TikTok reported its task FAILED with `error`?"""
    if error.error_class is not ErrorClass.RETRY or post.attempts >= MAX_REINITS:
        return False
    if post.transfer == "pull":
        return True
    return (
        post.transfer == "upload"
        and error.code == "internal"
        and int(post.source.get("internal_reinits") or 0) < MAX_INTERNAL_REINITS
    )


def known_status(value: str) -> bool:
    """Is `value` one of the status values TikTok documents? (Others are treated as processing.)"""
    return value in PublishStatusValue.__members__


def poll_delay(poll: int) -> int:
    """Delay before status poll number `poll` (0-based), capped at SQS's 900 s."""
    return POLL_DELAYS[min(max(poll, 0), len(POLL_DELAYS) - 1)]


def reconcile_until(unconfirmed_at: float) -> int:
    """The epoch second after which an `unconfirmed` post is no longer reconciled."""
    return int(unconfirmed_at) + RECONCILE_WINDOW_S


def reconcile_open(until: int | None, now: float) -> bool:
    """May a reconcile job still ask TikTok? (No deadline stored: never meant to be reconciled.)"""
    return until is not None and now <= until


def error_record(
    error: ErrorInfo, *, log_id: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """What a post stores about its failure: class, TikTok code, what to do, and TikTok's log_id."""
    return {
        "class": str(error.error_class),
        "code": error.code,
        "message": message or error.message,
        "log_id": log_id,
        "http_status": error.http_status,
    }


def event_detail(post: Post) -> dict[str, Any]:
    """The EventBridge detail of a terminal post. Post ids are exact decimal strings."""
    detail: dict[str, Any] = {
        "post_id": post.post_id,
        "open_id": post.open_id,
        "mode": post.mode,
        "media_type": post.media,
        "status": post.status,
        "publish_id": post.publish_id,
        "post_ids": [str(x) for x in post.post_ids],
    }
    if post.fail_reason:
        # "code" alone is a name the event guard reserves for OAuth codes: the TikTok code is error_code here.
        error = dict(post.fail_reason)
        error["error_code"] = error.pop("code", None)
        detail["error"] = error
    return detail
