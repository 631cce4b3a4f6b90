"""ChunkPlan: every plan satisfies TikTok's FILE_UPLOAD rules (TIKTOK-API.md §5), checked independently."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tiktok_publisher.domain.chunks import (
    MAX_VIDEO_SIZE,
    EmptyVideoError,
    UploadProgressMismatch,
    VideoTooLargeError,
    parse_content_range,
    plan_chunks,
)
from tiktok_publisher.domain.errors import InvalidInput

MB, MIB = 1_000_000, 1024 * 1024
GB, GIB = 1000**3, 1024**3


def is_acceptable_to_tiktok(size: int, chunk_size: int, count: int, *, max_size: int = 4 * GB) -> bool:
    """TikTok's rules written out from the docs, under BOTH readings of "MB" (10^6 and 2^20 bytes)."""
    if not 1 <= size <= max_size:
        return False
    if count != size // chunk_size or not 1 <= count <= 1000:
        return False
    last_chunk = size - (count - 1) * chunk_size
    for mb in (MB, MIB):
        if size < 5 * mb:
            if not (count == 1 and chunk_size == size):
                return False
        elif not 5 * mb <= chunk_size <= 64 * mb:
            return False
        if last_chunk > 128 * mb:
            return False
    return True


BOUNDARIES = [
    1,
    2,
    5 * MB - 1,
    5 * MB,
    5 * MIB - 1,
    5 * MIB,
    5 * MIB + 1,
    10 * MB - 1,
    10 * MB,
    10 * MB + 1,
    20 * MB - 1,
    20 * MB,
    64 * MB,
    64 * MB + 1,
    128 * MB,
    MAX_VIDEO_SIZE - 1,
    MAX_VIDEO_SIZE,
]

sizes = st.one_of(st.integers(1, MAX_VIDEO_SIZE), st.sampled_from(BOUNDARIES), st.integers(1, 200 * MB))
preferred = st.one_of(st.just(10 * MB), st.integers(5 * MIB, 64 * MB))


def assert_contiguous(plan_size: int, ranges: list[tuple[int, int]], chunk_size: int) -> None:
    assert ranges[0][0] == 0
    assert ranges[-1][1] == plan_size - 1
    for (_, prev_last), (first, _) in pairwise(ranges):
        assert first == prev_last + 1
    for first, last in ranges[:-1]:
        assert last - first + 1 == chunk_size
    assert sum(last - first + 1 for first, last in ranges) == plan_size


@settings(max_examples=300, deadline=None)
@given(size=sizes, preferred_size=preferred)
@example(size=50_000_123, preferred_size=10 * MB)
def test_every_plan_is_acceptable_contiguous_and_complete(size: int, preferred_size: int) -> None:
    plan = plan_chunks(size, preferred_size)

    assert is_acceptable_to_tiktok(plan.video_size, plan.chunk_size, plan.total_chunk_count)
    ranges = list(plan.chunks)
    assert len(ranges) == plan.total_chunk_count
    assert_contiguous(size, ranges, plan.chunk_size)
    assert [plan.range_for(i) for i in range(plan.total_chunk_count)] == ranges


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 4 * GIB))
def test_arithmetic_holds_up_to_4_gib_when_that_reading_is_allowed(size: int) -> None:
    plan = plan_chunks(size, max_video_size=4 * GIB)

    assert is_acceptable_to_tiktok(size, plan.chunk_size, plan.total_chunk_count, max_size=4 * GIB)
    assert_contiguous(size, list(plan.chunks), plan.chunk_size)


def test_docs_example_50000123_bytes() -> None:
    plan = plan_chunks(50_000_123, 10_000_000)

    assert (plan.chunk_size, plan.total_chunk_count) == (10_000_000, 5)
    assert plan.range_for(4) == (40_000_000, 50_000_122)
    assert plan.content_range(4) == "bytes 40000000-50000122/50000123"
    assert plan.content_range(0) == "bytes 0-9999999/50000123"
    assert plan.length_of(4) == 10_000_123
    assert plan.source_info() == {
        "source": "FILE_UPLOAD",
        "video_size": 50_000_123,
        "chunk_size": 10_000_000,
        "total_chunk_count": 5,
    }


@pytest.mark.parametrize("size", [1, 1000, 5 * MB - 1, 5 * MIB - 1])
def test_small_video_is_one_chunk_of_its_own_size(size: int) -> None:
    plan = plan_chunks(size)

    assert (plan.chunk_size, plan.total_chunk_count, plan.chunks) == (size, 1, ((0, size - 1),))


def test_large_video_grows_the_chunk_to_stay_within_1000_chunks() -> None:
    plan = plan_chunks(MAX_VIDEO_SIZE, 5 * MIB)

    assert plan.total_chunk_count <= 1000
    assert plan.chunk_size == 5 * MIB  # 4e9 / 5 MiB = 762 chunks: no growth needed
    big = plan_chunks(60 * GB, 5 * MIB, max_video_size=60 * GB)
    assert big.total_chunk_count == 1000
    assert big.chunk_size == 60_000_000


@pytest.mark.parametrize("size", [0, -1])
def test_empty_video_is_refused(size: int) -> None:
    with pytest.raises(EmptyVideoError) as caught:
        plan_chunks(size)
    assert isinstance(caught.value, InvalidInput)


@pytest.mark.parametrize("size", [MAX_VIDEO_SIZE + 1, 4 * GIB, 5 * GIB])
def test_video_over_4_gb_is_refused_with_a_typed_error(size: int) -> None:
    with pytest.raises(VideoTooLargeError, match="4,000,000,000 bytes"):
        plan_chunks(size)


@pytest.mark.parametrize("preferred_size", [5 * MIB - 1, 64 * MB + 1, 0])
def test_preferred_chunk_size_outside_the_safe_range_is_a_programming_error(preferred_size: int) -> None:
    with pytest.raises(ValueError, match="preferred_chunk_size"):
        plan_chunks(100 * MB, preferred_size)


def test_range_for_rejects_indexes_outside_the_plan() -> None:
    plan = plan_chunks(50_000_123)
    for index in (-1, 5):
        with pytest.raises(IndexError):
            plan.range_for(index)


@settings(max_examples=200, deadline=None)
@given(size=sizes, data=st.data())
def test_next_index_after_resumes_at_the_chunk_following_tiktoks_progress(
    size: int, data: st.DataObject
) -> None:
    plan = plan_chunks(size)
    done = data.draw(st.integers(0, plan.total_chunk_count))
    received_last = plan.range_for(done - 1)[1] if done else None

    assert plan.next_index_after(received_last) == done


def test_next_index_after_edges() -> None:
    plan = plan_chunks(50_000_123)

    assert plan.next_index_after(None) == 0
    assert plan.next_index_after(-1) == 0
    assert plan.next_index_after(9_999_999) == 1
    assert plan.next_index_after(50_000_122) == 5
    for bad in (0, 10_000_000, 40_000_000, 49_999_999, 50_000_123, 10**12):
        with pytest.raises(UploadProgressMismatch):
            plan.next_index_after(bad)


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("bytes 0-9999999/50000123", (0, 9_999_999, 50_000_123)),
        ("BYTES 0-5/*", (0, 5, None)),
        ("  bytes 10-20/30 ", (10, 20, 30)),
        ("bytes 5-4/30", None),
        ("bytes=0-5/30", None),
        ("bytes 0-/30", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_content_range(header: str | None, parsed: tuple[int, int, int | None] | None) -> None:
    assert parse_content_range(header) == parsed


def test_the_independent_checker_really_rejects_bad_plans() -> None:
    # Guards the property test: a checker that accepts everything would prove nothing.
    assert not is_acceptable_to_tiktok(50_000_123, 10_000_000, 6)  # count is not floor(size/chunk)
    assert not is_acceptable_to_tiktok(50_000_123, 5_000_000, 10)  # 5 MB decimal is under 5 MiB
    assert not is_acceptable_to_tiktok(200 * MB, 100 * MB, 2)  # chunk above 64 MB
    assert is_acceptable_to_tiktok(127 * MB, 63 * MB, 2)  # last chunk 64 MB: fine
    assert not is_acceptable_to_tiktok(3 * MB, 3 * MB - 1, 1)  # small video must be one chunk of its size
    assert not is_acceptable_to_tiktok(20 * GB, 10 * MB, 2000)  # more than 1000 chunks
    assert not is_acceptable_to_tiktok(0, 1, 0)
