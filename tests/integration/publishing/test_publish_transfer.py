"""ChunkUploader and ContinuousSource against a TikTok-like sink that keeps TikTok's progress rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tiktok_publisher.domain.chunks import plan_chunks
from tiktok_publisher.domain.tiktok import ChunkResult
from tiktok_publisher.domain.tiktok_errors import TikTokTransportError
from tiktok_publisher.publishing.transfer import (
    ChunkUploader,
    ContinuousSource,
    UploadInterrupted,
    UploadPaused,
)

SIZE = 31_000_000  # three chunks of 10 MB, the last one 11 MB


@dataclass
class Body:
    data: bytes
    pos: int
    closed: bool = False

    def read(self, n: int) -> bytes:
        piece = self.data[self.pos : self.pos + n]
        self.pos += len(piece)
        return piece

    def close(self) -> None:
        self.closed = True


@dataclass
class Object:
    """One S3 object; counts the GETs opened on it."""

    data: bytes
    opened: list[int] = field(default_factory=list)

    def open_from(self, key: str, first: int) -> Body:
        self.opened.append(first)
        return Body(self.data, first)


@dataclass
class Sink:
    """TikTok's chunk endpoint: in-order ranges only, Content-Range progress on every answer."""

    total: int
    received: bytearray = field(default_factory=bytearray)
    script: list[str] = field(default_factory=list)  # per call: "ok", "5xx", "drop" (ack lost), "reset"
    calls: list[tuple[int, int]] = field(default_factory=list)

    def upload_chunk(
        self, url: str, data: Any, *, first: int, last: int, total: int, content_type: str
    ) -> Any:
        self.calls.append((first, last))
        action = self.script.pop(0) if self.script else "ok"
        body = b"".join(data)
        assert len(body) == last - first + 1
        if action == "reset":
            raise TikTokTransportError("transport", "connection reset")
        if action == "5xx":
            return ChunkResult(503, self._last())
        if first != len(self.received):
            return ChunkResult(416, self._last())
        self.received += body
        if action == "drop":  # TikTok stored it, the answer never arrived
            raise TikTokTransportError("transport", "read timed out")
        return ChunkResult(201 if len(self.received) == self.total else 206, self._last())

    def _last(self) -> int | None:
        return len(self.received) - 1 if self.received else None


def _data() -> bytes:
    return bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


def test_one_get_serves_every_chunk_in_order() -> None:
    obj, sink, plan = Object(_data()), Sink(SIZE), plan_chunks(SIZE)
    source = ContinuousSource(obj)
    ChunkUploader(sink, source).upload("u", "k", plan, content_type="video/mp4")
    assert bytes(sink.received) == obj.data
    assert obj.opened == [0]


def test_lost_ack_is_resynced_from_tiktoks_progress() -> None:
    obj, sink, plan = Object(_data()), Sink(SIZE, script=["ok", "drop"]), plan_chunks(SIZE)
    ChunkUploader(sink, ContinuousSource(obj), sleep=lambda _s: None).upload(
        "u", "k", plan, content_type="video/mp4"
    )
    assert bytes(sink.received) == obj.data
    # chunk 1 sent twice (416 the second time: TikTok had it), then chunk 2 where the stream already is
    assert sink.calls == [
        (0, 9_999_999),
        (10_000_000, 19_999_999),
        (10_000_000, 19_999_999),
        (20_000_000, SIZE - 1),
    ]
    assert obj.opened == [0, 10_000_000]


def test_resume_from_stale_progress_jumps_to_tiktoks() -> None:
    obj, plan = Object(_data()), plan_chunks(SIZE)
    sink = Sink(SIZE)
    sink.received += obj.data[:20_000_000]  # TikTok has two chunks; we believed one
    progress: list[int] = []
    ChunkUploader(sink, ContinuousSource(obj)).upload(
        "u", "k", plan, content_type="video/mp4", start_index=1, on_chunk=progress.append
    )
    assert bytes(sink.received) == obj.data
    assert progress == [2, 3]


def test_transient_failures_retry_then_hand_back() -> None:
    obj, plan = Object(_data()), plan_chunks(SIZE)
    sink = Sink(SIZE, script=["5xx", "reset", "ok", "ok", "ok"])
    ChunkUploader(sink, ContinuousSource(obj), sleep=lambda _s: None).upload(
        "u", "k", plan, content_type="video/mp4"
    )
    assert bytes(sink.received) == obj.data

    stuck = Sink(SIZE, script=["5xx"] * 3)
    with pytest.raises(UploadInterrupted) as caught:
        ChunkUploader(stuck, ContinuousSource(obj), sleep=lambda _s: None).upload(
            "u", "k", plan, content_type="video/mp4"
        )
    assert caught.value.error.retryable
    assert caught.value.next_index == 0


def test_pauses_between_chunks_when_time_runs_out() -> None:
    obj, sink, plan = Object(_data()), Sink(SIZE), plan_chunks(SIZE)
    left = iter([100.0, 1.0])
    with pytest.raises(UploadPaused) as caught:
        ChunkUploader(sink, ContinuousSource(obj), time_left=lambda: next(left)).upload(
            "u", "k", plan, content_type="video/mp4"
        )
    assert caught.value.next_index == 2
    assert len(sink.received) == 20_000_000


def test_expired_upload_url_is_not_retried() -> None:
    class Expired(Sink):
        def upload_chunk(self, url: str, data: Any, **kwargs: Any) -> Any:
            return ChunkResult(403, None)

    with pytest.raises(UploadInterrupted) as caught:
        ChunkUploader(Expired(SIZE), ContinuousSource(Object(_data()))).upload(
            "u", "k", plan_chunks(SIZE), content_type="video/mp4"
        )
    assert caught.value.error.code == "upload_url_expired"
