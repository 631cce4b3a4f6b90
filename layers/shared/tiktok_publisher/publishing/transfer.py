"""FILE_UPLOAD: stream S3 byte ranges straight into TikTok's chunk PUTs, resuming from TikTok's progress.

Memory: each chunk is an S3 ranged GET whose body is handed to the PUT piece by piece (media_source's
PIECE_BYTES), so the worker holds about one piece at a time, whatever the chunk or file size.

Resuming: the chunk boundaries are fixed by the plan sent at init, and TikTok answers every PUT with
`Content-Range: bytes 0-LAST/TOTAL`. After a failed PUT we simply send the chunk we believe is next; if
TikTok already had it (the PUT went through but the answer was lost, or a killed worker had sent it),
TikTok answers 416 with its real progress and we jump to the chunk after it. So the stored progress is a
hint, TikTok's answer is the truth, and no byte range is ever sent out of order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.chunks import ChunkPlan, UploadProgressMismatch
from tiktok_publisher.domain.media import MediaPin
from tiktok_publisher.domain.taxonomy import ErrorInfo, backoff_delay, classify, classify_upload_status
from tiktok_publisher.domain.tiktok_errors import TikTokError, TikTokTransportError
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import MediaStore, TikTokContent

# In-process retries of one chunk before handing the post back to the queue (with a delay).
CHUNK_ATTEMPTS = 3
CHUNK_RETRY_CAP_S = 2.0
PAUSE_MARGIN_S = 5.0


class ContinuousSource:
    """Consecutive chunks of one object from ONE open S3 GET, instead of a ranged GET per chunk.

    Fewer requests (S3 bills per request; each GET has its own latency), and servers that answer a range
    by materialising the object (moto) are not asked to do it a hundred times. A range that does not
    continue where the previous one stopped (a retry, a resync, a resume) reopens the stream at its first
    byte; a stream that breaks mid-chunk is reopened where it broke, once per chunk.
    """

    def __init__(self, media: MediaStore, piece: int = 1024 * 1024, *, pin: MediaPin | None = None) -> None:
        self._media = media
        self._piece = piece
        self._pin = pin  # every GET names the probed version: a replaced object raises MediaChanged
        self._key: str | None = None
        self._body: Any = None
        self._pos = -1

    def iter_range(self, key: str, first: int, last: int) -> Iterator[bytes]:
        """Bytes first..last (inclusive) of `key`, in pieces."""
        if self._body is None or self._key != key or self._pos != first:
            self._open(key, first)
        reopened = False
        left = last - first + 1
        while left > 0:
            try:
                piece = self._body.read(min(left, self._piece))
            except Exception:
                if reopened:
                    raise
                reopened = True
                self._open(key, self._pos)
                continue
            if not piece:
                raise ValueError("the media object ended before its declared size")
            self._pos += len(piece)
            left -= len(piece)
            yield piece

    def _open(self, key: str, first: int) -> None:
        self.close()
        # Unpinned posts (recorded before pins existed) read as before.
        pinned = {"pin": self._pin} if self._pin is not None else {}
        self._body = self._media.open_from(key, first, **pinned)
        self._key, self._pos = key, first

    def close(self) -> None:
        """Release the open GET (if any)."""
        if self._body is not None:
            try:
                self._body.close()
            finally:
                self._body = None


class UploadInterrupted(Exception):
    """The upload cannot go on now. `error.retryable` says whether a later attempt may resume it."""

    def __init__(self, error: ErrorInfo, next_index: int) -> None:
        super().__init__(error.code)
        self.error = error
        self.next_index = next_index


class UploadPaused(Exception):
    """Stopped between chunks because the invocation is running out of time; resume from next_index."""

    def __init__(self, next_index: int) -> None:
        super().__init__(next_index)
        self.next_index = next_index


@dataclass
class ChunkUploader:
    """Sends a plan's chunks in order from `start_index`, calling `on_chunk(next_index)` after each."""

    client: TikTokContent
    source: ContinuousSource
    sleep: Callable[[float], None] = time.sleep
    attempts: int = CHUNK_ATTEMPTS
    # Seconds left in this invocation; the upload pauses between chunks when the next one might not fit.
    time_left: Callable[[], float] = lambda: float("inf")

    def upload(
        self,
        upload_url: str,
        key: str,
        plan: ChunkPlan,
        *,
        content_type: str,
        start_index: int = 0,
        on_chunk: Callable[[int], None] = lambda _index: None,
    ) -> None:
        """Upload every chunk TikTok does not have yet; returns when TikTok has all bytes (201 seen or
        reported). Raises UploadInterrupted when it cannot finish now, UploadPaused when out of time."""
        index = start_index
        failures = 0
        resynced = False
        slowest = 0.0
        sent_any = False
        while index < plan.total_chunk_count:
            if sent_any and self.time_left() < 2 * slowest + PAUSE_MARGIN_S:
                raise UploadPaused(index)
            first, last = plan.range_for(index)
            started = time.monotonic()
            try:
                result = self.client.upload_chunk(
                    upload_url,
                    self.source.iter_range(key, first, last),
                    first=first,
                    last=last,
                    total=plan.video_size,
                    content_type=content_type,
                )
            except TikTokTransportError as exc:
                failures = self._failed(classify(exc.code, exc.http_status), index, failures)
                continue
            except TikTokError as exc:
                raise UploadInterrupted(classify(exc.code, exc.http_status), index) from None
            status = result.status_code
            sent_any = True
            slowest = max(slowest, time.monotonic() - started)
            if 200 <= status < 300:
                if status not in (201, 206):
                    # Not what TikTok documents, but a success: the chunk is delivered and the task's status
                    # (polled next) decides whether TikTok has the whole video (issue 12).
                    logger.warning("chunk answered an undocumented 2xx", extra={"status_code": status})
                index = self._after(plan, index, result.received_last, complete=status == 201)
                failures = 0
                resynced = False
                on_chunk(index)
            elif status == 416 and not resynced:
                # TikTok is elsewhere in the file: continue from what it says it has.
                index = self._resync(plan, result.received_last, index)
                resynced = True
                on_chunk(index)
            elif status == 429 or status >= 500:
                failures = self._failed(classify_upload_status(status), index, failures)
            else:
                raise UploadInterrupted(classify_upload_status(status), index)

    def _after(self, plan: ChunkPlan, index: int, received_last: int | None, *, complete: bool) -> int:
        if complete:
            return plan.total_chunk_count
        if received_last is None:
            return index + 1
        try:
            return max(index + 1, plan.next_index_after(received_last))
        except UploadProgressMismatch:
            return index + 1

    def _resync(self, plan: ChunkPlan, received_last: int | None, index: int) -> int:
        if received_last is None:
            raise UploadInterrupted(classify_upload_status(416), index)
        try:
            target = plan.next_index_after(received_last)
        except UploadProgressMismatch:
            raise UploadInterrupted(classify_upload_status(416), index) from None
        logger.info("upload resynced from tiktok progress", extra={"from_chunk": index, "to_chunk": target})
        return target

    def _failed(self, error: ErrorInfo, index: int, failures: int) -> int:
        failures += 1
        if failures >= self.attempts:
            raise UploadInterrupted(error, index)
        logger.warning(
            "chunk failed, retrying", extra={"chunk": index, "code": error.code, "attempt": failures}
        )
        self.sleep(backoff_delay(failures - 1, base=0.25, cap=CHUNK_RETRY_CAP_S))
        return failures
