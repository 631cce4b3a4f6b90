"""Step 3, status: polled with growing delays until TikTok settles the post; a dead task is started again
when its failure is worth another try, a timeout leaves the post `unconfirmed` for reconciliation."""

from __future__ import annotations

from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.status import (
    DONE,
    MAX_REINITS,
    error_record,
    known_status,
    poll_delay,
    restarts_after_failure,
)
from tiktok_publisher.domain.taxonomy import (
    ErrorClass,
    ErrorInfo,
    classify,
    min_spacing_s,
)
from tiktok_publisher.domain.tiktok import PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.observability import count, logger
from tiktok_publisher.publishing.worker.base import (
    MAX_RETRIES,
    WorkerBase,
    uploadable,
)


class StatusStep(WorkerBase):
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
        publish_id = str(post.publish_id)
        self._pace(post, job, "status")
        try:
            status = self._call_with(
                post,
                token,
                lambda live: self.client.fetch_status(live, publish_id),
                token_failed=lambda exc, refusal: self._token_failed(post, job, exc, log_id=refusal.log_id),
            )
        except TikTokError as exc:
            error = classify(exc.code, exc.http_status, tiktok_message=exc.message)
            if error.retryable and job.attempt < MAX_RETRIES:
                self._requeue(job.retried(), max(poll_delay(job.poll), min_spacing_s("status")))
            self._unconfirmed_until_reconciled(post, job, error.code, error.message, log_id=exc.log_id)
            return
        done = DONE.get(status.status)  # type: ignore[call-overload]
        if done is not None:
            final, _event = done
            self._finish(post, final, set_fields={"post_ids": list(status.post_ids)}, note=str(status.status))
        elif status.status == PublishStatusValue.FAILED:
            self._tiktok_failed(post, job, status.fail_reason)
        else:
            if not known_status(str(status.status)):
                # Not in TikTok's docs: not a broken answer either. Processing, under the same deadline.
                count("TikTokUnknownStatus")
                logger.warning(
                    "unknown status value treated as processing", extra={"status_value": status.status}
                )
            self._requeue(job.polled(), poll_delay(job.poll + 1))

    def _tiktok_failed(self, post: Post, job: Job, reason: str | None) -> None:
        error = classify(reason or "unknown")
        if error.error_class is ErrorClass.CANCELLED:
            self._finish(
                post, PostStatus.CANCELLED, note=error.code, set_fields={"fail_reason": error_record(error)}
            )
            return
        if restarts_after_failure(post, error):
            # TikTok's task is FAILED (dead): a new one cannot duplicate it.
            self._reinit(post, job, error)
            return
        self._fail(post, error, expect={"publish_id": post.publish_id})

    def _reinit(self, post: Post, job: Job, error: ErrorInfo) -> None:
        if post.attempts >= MAX_REINITS:
            self._fail(post, error, expect={"publish_id": post.publish_id})
            return
        source = dict(post.source)
        if error.pull_fallback and uploadable(post):
            source["pull_refused"] = error.code
        if error.code == "internal":
            source["internal_reinits"] = int(source.get("internal_reinits") or 0) + 1
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
