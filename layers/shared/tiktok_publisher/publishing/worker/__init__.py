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
a pull failure, FAILED `internal` on an upload once, or an upload_url that expired before the last chunk,
when no video can come out of it).

Waiting never sleeps in Lambda: the next step is a new SQS message with DelaySeconds.

An `unconfirmed` post whose task TikTok knows (polling timed out, or a status error we gave up on, with a
publish_id stored) is reconciled: a RECONCILE job asks TikTok's status once every RECONCILE_DELAY_S and
settles it as published / inbox / failed, conditional on it still being `unconfirmed` with that publish_id
(a webhook racing it cannot both win), until RECONCILE_WINDOW_S. It never calls init: nothing is re-posted.
"""

from __future__ import annotations

from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.jobs import RECONCILE, Job
from tiktok_publisher.domain.posts import TERMINAL, PostStatus
from tiktok_publisher.observability import logger
from tiktok_publisher.publishing.worker.base import ACTIVE, INIT_LEASE_S, Seams, StepEnded
from tiktok_publisher.publishing.worker.init import InitStep
from tiktok_publisher.publishing.worker.reconcile import ReconcileStep
from tiktok_publisher.publishing.worker.status import StatusStep
from tiktok_publisher.publishing.worker.upload import UploadStep


class PublishWorker(InitStep, UploadStep, StatusStep, ReconcileStep):
    """One SQS job moves one post one step; the steps live in their own modules (see module docstring)."""

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
        except StepEnded:
            return
        except Exception as exc:
            # SQS redelivers the job; say why here (the batch processor only records the failure).
            logger.exception("publish step failed", extra={"error_type": type(exc).__name__})
            raise


__all__ = ["INIT_LEASE_S", "TERMINAL", "PublishWorker", "Seams"]
