"""Step 2, FILE_UPLOAD: the chunks streamed from S3, resuming from TikTok's progress; an upload TikTok lost
is polled (every byte arrived) or started again (no video can come out of it)."""

from __future__ import annotations

from typing import Any, NoReturn

from tiktok_publisher.domain.chunks import ChunkPlan
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import MediaPin
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.status import (
    STATUS_TIME_LIMIT_S,
    poll_delay,
)
from tiktok_publisher.domain.taxonomy import (
    UPLOAD_NOT_FOUND,
    UPLOAD_URL_EXPIRED,
    backoff_delay,
)
from tiktok_publisher.domain.tiktok import PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.publishing.transfer import (
    ChunkUploader,
    ContinuousSource,
    UploadInterrupted,
    UploadPaused,
)
from tiktok_publisher.publishing.worker.base import (
    MAX_RETRIES,
    RETRY_CAP_S,
    WorkerBase,
)


class UploadStep(WorkerBase):
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

        if self._media_replaced(post):
            return
        source = ContinuousSource(self.media, pin=MediaPin.from_source(post.source))
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
            self._pace(post, job, "status")
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
        """TikTok's status of the upload's task, or None when it cannot be had (a token TikTok refuses early
        is replaced once, as for every status call). The chunk PUTs themselves carry no access token: the
        upload_url is their credential, so a token ending mid-upload does not stop them."""
        publish_id = str(post.publish_id)

        def no_token(_exc: Exception, _refusal: TikTokError) -> NoReturn:
            raise _NoStatus

        try:
            return self._call_with(
                post, token, lambda live: self.client.fetch_status(live, publish_id), token_failed=no_token
            )
        except (TikTokError, _NoStatus):
            return None


class _NoStatus(Exception):
    """No token to ask TikTok with (the forced refresh failed): the status is unknown."""
