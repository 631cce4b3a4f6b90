"""Step 3, status: polled with growing delays until TikTok settles the post; a dead pull task is started
again, a timeout leaves the post `unconfirmed` for reconciliation."""

from __future__ import annotations

from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.status import (
    DONE,
    error_record,
    poll_delay,
)
from tiktok_publisher.domain.taxonomy import (
    ErrorClass,
    ErrorInfo,
    classify,
    min_spacing_s,
)
from tiktok_publisher.domain.tiktok import PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.publishing.worker.base import (
    MAX_REINITS,
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
        try:
            status = self._call_with(
                post,
                token,
                lambda live: self.client.fetch_status(live, publish_id),
                token_failed=lambda exc, refusal: self._token_failed(post, job, exc, log_id=refusal.log_id),
            )
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
        if error.pull_fallback and uploadable(post):
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
