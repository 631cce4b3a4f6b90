"""Managing a post after it was created: reschedule or edit a `scheduled` post (PATCH), retry a `failed` one.

Both are single conditional writes on what was read, never a read-then-write:
- PATCH expects status `scheduled`, no init marker, no publish_id and the `version` read. The dispatcher's own
  write (scheduled -> queued) expects the publish_at it read, so a reschedule that lands first keeps the post
  waiting, and one that lands second fails its condition: 409, the post is on its way.
- A retry expects status `failed` and the `version` read, so two retries make one new attempt. It starts a
  new attempt only when TikTok cannot publish the old one any more: the argument is in docs/publishing.md
  ("Retrying a failed post"), checked with TikTok's status when the failed attempt has a publish_id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.accounts import require_active
from tiktok_publisher.domain.errors import Conflict, UpstreamError
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.post_info import PostInfo, PostMode, tiktok_post_info
from tiktok_publisher.domain.post_validation import validate_post
from tiktok_publisher.domain.posts import (
    ABSENT,
    Post,
    PostStatus,
    ended_attempt,
    iso_now,
    retry_verdict,
)
from tiktok_publisher.domain.problems import raise_if_problems
from tiktok_publisher.domain.schedule import check_publish_at
from tiktok_publisher.domain.taxonomy import creator_info_refused
from tiktok_publisher.domain.tiktok import CreatorInfo, PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import Accounts, JobQueue, Posts, TikTokContent, Tokens
from tiktok_publisher.publishing.schemas import UpdatePostRequest

# TikTok's upload_url lives one hour (TIKTOK-API.md §4): after that an upload that never got every byte can
# never complete, so no video can come out of its task.
UPLOAD_URL_LIFETIME_S = 3600
# TikTok codes that say the old task does not exist (no video can come out of it).
UNKNOWN_TASK_CODES = frozenset({"invalid_publish_id"})


class PostNotEditable(Conflict):
    code = "post_not_editable"


class PostNotRetryable(Conflict):
    code = "post_not_retryable"


class PostUnconfirmed(Conflict):
    code = "post_unconfirmed"


class RetryUnsafe(Conflict):
    code = "retry_unsafe"


@dataclass
class PostChanges:
    posts: Posts
    accounts: Accounts
    client: TikTokContent
    queue: JobQueue
    tokens: Tokens  # access tokens: the shared refresh path (DESIGN.md §6)
    audited: bool
    clock: Callable[[], float] = time.time

    # ------------------------------------------------------------------ PATCH

    def update_post(self, tenant_id: str, post_id: str, body: UpdatePostRequest) -> Post:
        """Reschedule and/or edit a `scheduled` post, checked against a fresh creator_info (one write)."""
        post = self.posts.get(tenant_id, post_id)  # 404 for another tenant's post
        now = self.clock()
        _require_scheduled(post)
        require_active(self.accounts.get(tenant_id, post.open_id))
        fields: dict[str, Any] = {}
        notes = []
        if body.publish_at is not None:
            # "Now" (or a time just passed) stays scheduled at now: the dispatcher takes it within a minute.
            fields["publish_at"] = check_publish_at(body.publish_at, now=now) or int(now)
            notes.append("rescheduled")
        creator = self._creator_info(post) if post.mode == PostMode.DIRECT else None
        info = body.post_info if body.post_info is not None else _stored_info(post)
        if body.post_info is not None or creator is not None:
            raise_if_problems(self._problems(post, creator, info))
        if body.post_info is not None:
            fields["post_info"] = tiktok_post_info(
                body.post_info, creator, media_type=post.media, mode=post.mode
            )
            notes.append("post_info edited")
        done = self.posts.update(
            post,
            now=self.clock(),
            expect_status={PostStatus.SCHEDULED},
            expect={"version": post.version, "init_started_at": ABSENT, "publish_id": ABSENT},
            set_fields=fields,
            note=" and ".join(notes),
        )
        if done is None:
            current = self.posts.get(tenant_id, post_id)
            _require_scheduled(current)
            raise Conflict("The post changed while it was being edited. Read it again and retry.")
        logger.info("scheduled post changed", extra={"post_id": post_id, "changes": notes})
        return done

    # ------------------------------------------------------------------ retry

    def retry_post(self, tenant_id: str, post_id: str) -> Post:
        """A new attempt for a `failed` post whose failure allows it (docs/publishing.md); 409 otherwise."""
        post = self.posts.get(tenant_id, post_id)  # 404 for another tenant's post
        verdict = retry_verdict(post)
        if not verdict.allowed:
            error = PostUnconfirmed if verdict.code == "post_unconfirmed" else PostNotRetryable
            raise error(verdict.reason, details={"status": str(post.status), "reason": verdict.code})
        require_active(self.accounts.get(tenant_id, post.open_id))
        if post.mode == PostMode.DIRECT:
            creator = self._creator_info(post)
            raise_if_problems(self._problems(post, creator, _stored_info(post)))
        if post.publish_id:
            self._require_old_task_dead(post)
        now = self.clock()
        attempt = ended_attempt(post, ended_at=iso_now(now))
        done = self.posts.update(
            post,
            now=now,
            status=PostStatus.QUEUED,
            expect_status={PostStatus.FAILED},
            expect={"version": post.version},
            set_fields={
                "past_attempts": [*post.past_attempts, attempt],
                "publish_id": None,
                "init_started_at": None,
                "init_token": None,
                "transfer": None,
                "upload_progress": None,
                "status_deadline": None,
                "reconcile_until": None,
                "fail_reason": None,
                "attempts": 0,
            },
            note=f"retry: attempt {attempt['number'] + 1} after {((post.fail_reason or {}).get('code'))}",
        )
        if done is None:
            raise PostNotRetryable(
                "The post changed meanwhile (it may have been retried already). Read it again.",
                details={"status": str(self.posts.get(tenant_id, post_id).status)},
            )
        # Only now, with the failed attempt on record and the post back to `queued`, may the worker init.
        self.queue.send(Job(tenant_id, post_id))
        logger.info("post retried", extra={"post_id": post_id, "attempt": attempt["number"] + 1})
        return done

    def _require_old_task_dead(self, post: Post) -> None:
        """TikTok must not be able to publish the failed attempt's task any more (docs/publishing.md)."""
        token = self.tokens.ensure_fresh_token(post.tenant_id, post.open_id, now=int(self.clock()))
        try:
            status = self.client.fetch_status(token, str(post.publish_id))
        except TikTokError as exc:
            if exc.code in UNKNOWN_TASK_CODES:
                return  # TikTok does not know the task: nothing can come out of it
            raise UpstreamError(
                "TikTok could not confirm that the failed attempt is over, so nothing was sent. Try again.",
                details={"tiktok_code": exc.code, "log_id": exc.log_id},
            ) from None
        if status.status == PublishStatusValue.FAILED:
            return
        size = int((post.upload_progress or {}).get("video_size") or 0)
        started = post.init_started_at or 0
        upload_dead = (
            status.status == PublishStatusValue.PROCESSING_UPLOAD
            and size > 0
            and (status.uploaded_bytes or 0) < size
            and self.clock() > started + UPLOAD_URL_LIFETIME_S
        )
        if upload_dead:
            return
        raise RetryUnsafe(
            f"TikTok still has this post's failed attempt ({status.status.value}), so it may yet be "
            "published. Nothing was sent. Check the creator's TikTok profile; an upload that never finished "
            "can be retried an hour after it started.",
            details={"tiktok_status": status.status.value, "publish_id": post.publish_id},
        )

    # ------------------------------------------------------------------ shared

    def _creator_info(self, post: Post) -> CreatorInfo:
        """Fresh creator_info (TIKTOK-API.md §4): the rules of today, not of the day the post was made."""
        now = int(self.clock())
        tenant_id, open_id = post.tenant_id, post.open_id
        token = self.tokens.ensure_fresh_token(tenant_id, open_id, now=now)
        try:
            return self.client.creator_info(token)
        except TikTokError as exc:
            raise creator_info_refused(
                exc,
                mark_token_dead=lambda refused: self.tokens.mark_token_dead(
                    tenant_id, open_id, token, code=refused.code, log_id=refused.log_id, now=now
                ),
            ) from None

    def _problems(self, post: Post, creator: CreatorInfo | None, info: PostInfo | None) -> list[Any]:
        probe = post.source.get("probe") or {}
        return validate_post(
            creator_info=creator,
            post_info=info,
            mode=post.mode,
            media_type=post.media,
            audited=self.audited,
            video_duration_s=probe.get("duration_s") if post.media == "video" else None,
            photo_count=len(post.source.get("images", [])) if post.media == "photo" else None,
        )


def _require_scheduled(post: Post) -> None:
    if post.status != PostStatus.SCHEDULED:
        raise PostNotEditable(
            f"The post is {post.status}: only a scheduled post can be rescheduled or edited, and its "
            "publishing has started (or ended).",
            details={"status": str(post.status)},
        )


def _stored_info(post: Post) -> PostInfo | None:
    """The post_info the post will be sent with, read back as a request's (checked against today's rules)."""
    if post.mode != PostMode.DIRECT or not post.post_info:
        return None
    return PostInfo.model_validate(post.post_info)
