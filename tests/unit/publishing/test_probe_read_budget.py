"""Issue 11: one probe makes at most MAX_PROBE_READS ranged reads, then refuses the file with a clear error,
so a crafted upload cannot turn POST /v1/posts (and the S3 trigger) into thousands of S3 GETs."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytest

from tests.media import make_mp4, make_webm
from tiktok_publisher.publishing.probe import MAX_PROBE_READS, MediaTooComplexError, probe_video


@dataclass
class CountingReader:
    data: bytes
    calls: list[tuple[int, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        self.calls.append((offset, length))
        return self.data[offset : offset + length]


def scattered_mp4(boxes: int, box_size: int = 70_000) -> bytes:
    """ftyp, then `boxes` free boxes each larger than one read window, then a real file's boxes: every box
    header is a read of its own (the shape an attacker would craft)."""
    real = make_mp4(duration_s=1.0)
    ftyp_size = struct.unpack(">I", real[:4])[0]
    free = struct.pack(">I4s", box_size, b"free") + bytes(box_size - 8)
    return real[:ftyp_size] + free * boxes + real[ftyp_size:]


@pytest.mark.parametrize(
    "data",
    [
        make_mp4(duration_s=3.0),
        make_mp4(duration_s=3.0, moov_at_end=True, payload_size=5_000_000),
        make_webm(duration_s=3.0),
        make_webm(duration_s=3.0, metadata_at_end=True, payload_size=2_000_000),
        scattered_mp4(MAX_PROBE_READS - 4),
    ],
    ids=["mp4-faststart", "mp4-moov-at-end", "webm", "webm-metadata-at-end", "mp4-just-under-budget"],
)
def test_real_files_fit_the_budget(data: bytes) -> None:
    reader = CountingReader(data)

    info = probe_video(reader)

    assert info.width > 0
    assert len(reader.calls) <= MAX_PROBE_READS


def test_a_file_that_needs_more_reads_is_refused_after_the_budget() -> None:
    # Given a crafted MP4 whose metadata sits behind 200 oversized boxes (200+ reads to walk)
    reader = CountingReader(scattered_mp4(200))

    # When it is probed
    with pytest.raises(MediaTooComplexError) as caught:
        probe_video(reader)

    # Then exactly the budget was spent, and the message says what to do
    assert len(reader.calls) == MAX_PROBE_READS
    assert caught.value.status_code == 422
    assert caught.value.code == "media_too_complex"
    assert f"more than {MAX_PROBE_READS} reads" in caught.value.message
    assert "Export it again" in caught.value.message


def test_budget_is_a_few_dozen() -> None:
    assert 16 <= MAX_PROBE_READS <= 64
