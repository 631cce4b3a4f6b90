"""Reconciling an `unconfirmed` post whose task TikTok knows: asked once every RECONCILE_DELAY_S until
RECONCILE_WINDOW_S, settled conditionally; never an init, so nothing is re-posted."""

from __future__ import annotations

from typing import Any, NoReturn

from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.status import (
    DONE,
    RECONCILE_DELAY_S,
    error_record,
    reconcile_open,
    reconcile_until,
)
from tiktok_publisher.domain.taxonomy import (
    classify,
    settled,
)
from tiktok_publisher.domain.tiktok import PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.observability import logger
from tiktok_publisher.publishing.worker.base import (
    WorkerBase,
)


class ReconcileStep(WorkerBase):
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
        publish_id = post.publish_id
        self._pace(post, job, "status")
        try:
            status = self._call_with(
                post,
                token,
                lambda live: self.client.fetch_status(live, publish_id),
                token_failed=lambda exc, _refusal: self._reconcile_later(job, type(exc).__name__),
            )
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
        done = DONE.get(status.status)  # type: ignore[call-overload]
        if done is not None:
            fields: dict[str, Any] = {"post_ids": list(status.post_ids), "fail_reason": None}
            note = f"reconciled: {status.status}"
            self._finish(
                post,
                done[0],
                set_fields=fields,
                note=note,
                expect=expect,
                expect_status={PostStatus.UNCONFIRMED},
            )
        elif status.status == PublishStatusValue.FAILED:
            error = settled(classify(status.fail_reason or "unknown"), media=post.media)
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
            self._reconcile_later(job, str(status.status))  # processing, or a value the docs do not list

    def _reconcile_later(self, job: Job, why: str) -> NoReturn:
        logger.info("reconcile: asking TikTok again later", extra={"reason": why})
        self._requeue(job.reconciling(), RECONCILE_DELAY_S)
        raise AssertionError("unreachable: _requeue ends the step")
