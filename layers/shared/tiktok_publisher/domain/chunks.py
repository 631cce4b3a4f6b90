"""FILE_UPLOAD chunk planning (TIKTOK-API.md §5). Pure arithmetic, no I/O.

TikTok's rules: ``total_chunk_count = floor(video_size / chunk_size)`` and the remainder joins the
LAST chunk; every chunk is 5-64 MB, the last may reach 128 MB; a video under 5 MB is a single chunk whose
chunk_size is the video size; 1..1000 chunks, sent in order. "MB" is decimal in TikTok's example; we stay
inside both readings (5 MiB <= chunk_size <= 64,000,000 bytes; last chunk <= 128,000,000 bytes), so the
plan is accepted whichever reading TikTok's server applies.

What the worker sends is :func:`plan_upload`, for the world as integrators meet it (TIKTOK-API.md §5
[seen]): since about 2026-08 TikTok refuses every multi-chunk init with invalid_params "The chunk size is
invalid", while one chunk of up to 64,000,000 bytes goes through, and some read the docs as asking
``chunk_size == video_size`` for one chunk. So a video up to 64,000,000 bytes is always ONE chunk of
exactly its size (safe under every reading); only above that is the documented multi-chunk plan
(:func:`plan_chunks`) sent, and the worker routes around a refusal of it (PULL_FROM_URL when a verified
domain is configured).

"4 GB" is read as 4,000,000,000 bytes (decimal, like TikTok's MB): a file between 4.0e9 and 4 GiB might be
refused by the server after an hour of uploading, so we refuse it up front with a clear message instead.

Chunk size: ``preferred_chunk_size`` (10,000,000 bytes, the docs' own example; one chunk is also the worker's
memory bound) unless the file would need more than 1000 chunks, in which case the chunk grows to
``ceil(size / 1000)``. Because the remainder is always smaller than a chunk, the last chunk is below
``2 * chunk_size <= 128,000,000`` bytes, so every rule holds by construction for every size up to 64 GB.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.errors import InvalidInput

MIN_CHUNK_SIZE = 5 * 1024 * 1024  # 5 MiB: the larger reading of TikTok's "5 MB"
MAX_CHUNK_SIZE = 64_000_000  # the smaller reading of "64 MB"
MAX_LAST_CHUNK_SIZE = 128_000_000  # the smaller reading of "128 MB"
MAX_CHUNK_COUNT = 1000
MAX_VIDEO_SIZE = 4_000_000_000  # the smaller reading of "4 GB" (see module docstring)
DEFAULT_CHUNK_SIZE = 10_000_000
SINGLE_CHUNK_MAX = 64_000_000  # the largest single chunk TikTok accepts (the smaller reading of 64 MB)

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


class ChunkPlanError(InvalidInput):
    """The video cannot be uploaded in chunks at all (its size is out of TikTok's range)."""

    code = "invalid_video_size"


class EmptyVideoError(ChunkPlanError):
    code = "empty_video"


class VideoTooLargeError(ChunkPlanError):
    code = "video_too_large"


class UploadProgressMismatch(ValueError):
    """TikTok reported progress that does not end on one of our chunk boundaries (or is past the end)."""


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """How one video is cut for FILE_UPLOAD; build it with :func:`plan_chunks`."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def range_for(self, index: int) -> tuple[int, int]:
        """Inclusive (first, last) byte range of chunk ``index`` (0-based); the last takes the remainder."""
        if not 0 <= index < self.total_chunk_count:
            raise IndexError(f"chunk index {index} outside 0..{self.total_chunk_count - 1}")
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.total_chunk_count - 1 else first + self.chunk_size - 1
        return first, last

    def length_of(self, index: int) -> int:
        """Number of bytes in chunk ``index`` (its Content-Length)."""
        first, last = self.range_for(index)
        return last - first + 1

    def content_range(self, index: int) -> str:
        """The Content-Range header value for chunk ``index``: ``bytes FIRST-LAST/TOTAL``."""
        first, last = self.range_for(index)
        return f"bytes {first}-{last}/{self.video_size}"

    @property
    def multi_chunk(self) -> bool:
        """More than one chunk: the form TikTok has been seen refusing since 2026-08."""
        return self.total_chunk_count > 1

    @property
    def chunks(self) -> tuple[tuple[int, int], ...]:
        """Every (first, last) range, in upload order."""
        return tuple(self.iter_ranges())

    def iter_ranges(self, start_index: int = 0) -> Iterator[tuple[int, int]]:
        """Ranges from ``start_index`` on (used to resume)."""
        for index in range(start_index, self.total_chunk_count):
            yield self.range_for(index)

    def next_index_after(self, received_last_byte: int | None) -> int:
        """Index of the next chunk to send, given TikTok's ``Content-Range: bytes 0-N/TOTAL`` (N = last byte).

        ``None`` or a negative N means nothing was received. Returns ``total_chunk_count`` when everything was
        received. Raises UploadProgressMismatch when N is not the last byte of one of our chunks: TikTok only
        acknowledges whole chunks, so anything else means the upload belongs to another plan.
        """
        if received_last_byte is None or received_last_byte < 0:
            return 0
        if received_last_byte >= self.video_size:
            raise UploadProgressMismatch(
                f"TikTok reports byte {received_last_byte} received but the video has {self.video_size} bytes"
            )
        if received_last_byte == self.video_size - 1:
            return self.total_chunk_count
        received = received_last_byte + 1
        if received % self.chunk_size != 0 or received // self.chunk_size >= self.total_chunk_count:
            raise UploadProgressMismatch(
                f"TikTok reports {received} bytes received, not a chunk boundary of this plan "
                f"(chunk_size {self.chunk_size})"
            )
        return received // self.chunk_size

    def source_info(self) -> dict[str, Any]:
        """The ``source_info`` object of a FILE_UPLOAD init request."""
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(
    video_size: int,
    preferred_chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    max_video_size: int = MAX_VIDEO_SIZE,
) -> ChunkPlan:
    """Plan the chunks of a ``video_size``-byte upload so that TikTok accepts the plan (see module docstring).

    Raises EmptyVideoError (0 bytes), VideoTooLargeError (> max_video_size), ValueError (preferred size out
    of range).
    """
    if not MIN_CHUNK_SIZE <= preferred_chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"preferred_chunk_size must be within {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE} bytes")
    if max_video_size > MAX_CHUNK_SIZE * MAX_CHUNK_COUNT:
        raise ValueError("max_video_size beyond what 1000 chunks of 64 MB can carry")
    if video_size <= 0:
        raise EmptyVideoError("The video file is empty (0 bytes).")
    if video_size > max_video_size:
        raise VideoTooLargeError(
            f"The video is {video_size:,} bytes; TikTok accepts at most {max_video_size:,} bytes "
            f"({max_video_size / 1e9:g} GB). Export it at a lower bitrate or trim it and try again."
        )
    # Ceil division: the smallest chunk that keeps the count within 1000.
    chunk_size = max(preferred_chunk_size, -(-video_size // MAX_CHUNK_COUNT))
    if video_size < MIN_CHUNK_SIZE or video_size <= chunk_size:
        # One chunk carrying the whole file: the documented form under 5 MB, and valid up to 64 MB.
        return ChunkPlan(video_size=video_size, chunk_size=video_size, total_chunk_count=1)
    return ChunkPlan(video_size=video_size, chunk_size=chunk_size, total_chunk_count=video_size // chunk_size)


def plan_upload(video_size: int, *, single_chunk_max: int = SINGLE_CHUNK_MAX) -> ChunkPlan:
    """The plan the worker sends (see module docstring): one chunk of exactly ``video_size`` bytes up to
    ``single_chunk_max`` (64,000,000, TikTok's cap; lower only to exercise multi-chunk uploads with small
    files), the documented multi-chunk plan above it. Raises as :func:`plan_chunks` does."""
    if not 1 <= single_chunk_max <= SINGLE_CHUNK_MAX:
        raise ValueError(f"single_chunk_max must be within 1..{SINGLE_CHUNK_MAX} bytes")
    if 0 < video_size <= single_chunk_max:
        return ChunkPlan(video_size=video_size, chunk_size=video_size, total_chunk_count=1)
    return plan_chunks(video_size)


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """Parse ``bytes FIRST-LAST/TOTAL`` (TOTAL may be ``*``) to (first, last, total); None if invalid."""
    if not value:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        return None
    first, last = int(match.group(1)), int(match.group(2))
    total = None if match.group(3) == "*" else int(match.group(3))
    if last < first:
        return None
    return first, last, total
