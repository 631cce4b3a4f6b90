"""Media probe: reads back what tests/media.py wrote, with few small reads, and never crashes on bad input."""

from __future__ import annotations

import contextlib
import struct
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.media import (
    CountingReader,
    FileReader,
    VirtualFile,
    frame_rate_fraction,
    make_jpeg,
    make_mov,
    make_mp4,
    make_webm,
    make_webp,
    mp4_file,
    webm_file,
)
from tiktok_publisher.domain.errors import InvalidInput
from tiktok_publisher.domain.media import ImageInfo, MediaInfo
from tiktok_publisher.publishing.probe import (
    MAX_METADATA_SIZE,
    READ_SIZE,
    BytesReader,
    MediaProbeError,
    MediaTooComplexError,
    TruncatedMediaError,
    UnsupportedMediaError,
    probe_image,
    probe_media,
    probe_video,
)

MP4_CODECS = {
    "avc1": "h264",
    "avc3": "h264",
    "hvc1": "h265",
    "hev1": "h265",
    "vp09": "vp9",
    "vp08": "vp8",
    "av01": "av1",
    "mp4v": "mpeg4",
}
FPS = [23.976, 24, 25, 29.97, Fraction(30000, 1001), 30, 48, 50, 59.94, 60, 15, 90, 120]


def small_reads(reads: list[tuple[int, int]]) -> bool:
    return all(length <= READ_SIZE for _, length in reads)


# ------------------------------------------------------------------------------------------------ MP4


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.integers(16, 4096),
    height=st.integers(16, 4096),
    fps=st.sampled_from(FPS),
    duration_ms=st.integers(40, 600_000),
    codec=st.sampled_from(sorted(MP4_CODECS)),
    moov_at_end=st.booleans(),
    rotation=st.sampled_from([0, 90, 180, 270]),
    version=st.sampled_from([0, 1]),
    audio=st.booleans(),
    brand=st.sampled_from(["isom", "mp42", "qt  "]),
)
def test_mp4_round_trip(
    width: int,
    height: int,
    fps: float,
    duration_ms: int,
    codec: str,
    moov_at_end: bool,
    rotation: int,
    version: int,
    audio: bool,
    brand: str,
) -> None:
    file = mp4_file(
        duration_ms / 1000,
        width,
        height,
        fps,
        codec,
        moov_at_end=moov_at_end,
        rotation=rotation,
        version=version,
        audio=audio,
        brand=brand,
    )

    info = probe_video(file)

    assert info.container == ("mov" if brand == "qt  " else "mp4")
    assert info.codec == MP4_CODECS[codec]
    assert (info.width, info.height) == (width, height)
    assert info.duration_s == duration_ms / 1000
    assert info.fps == pytest.approx(float(frame_rate_fraction(fps)), rel=1e-12)
    assert info.size_bytes == file.size
    assert len(file.reads) <= 2
    assert small_reads(file.reads)


def test_moov_at_the_end_of_a_4_gb_file_costs_two_small_reads() -> None:
    file = mp4_file(600, 1080, 1920, 60, moov_at_end=True, payload_size=3_999_000_000)

    info = probe_video(file)

    assert (info.duration_s, info.fps, info.width, info.height) == (600.0, 60.0, 1080, 1920)
    assert info.size_bytes == file.size > 3_999_000_000
    assert len(file.reads) == 2
    assert file.reads[0] == (0, READ_SIZE)
    assert small_reads(file.reads)


def test_a_big_moov_is_fetched_whole_in_one_more_read() -> None:
    file = mp4_file(10, 720, 1280, 30, moov_at_end=True, payload_size=50_000_000, moov_padding=300_000)

    info = probe_video(file)

    assert info.duration_s == 10.0
    assert len(file.reads) == 3  # head, the window at moov, the rest of moov
    assert sum(length for _, length in file.reads) < 2 * READ_SIZE + 300_000


def test_moov_over_the_cap_is_refused_before_reading_it() -> None:
    file = mp4_file(3, moov_at_end=True, moov_padding=MAX_METADATA_SIZE + 1)

    with pytest.raises(MediaTooComplexError, match="moov"):
        probe_video(file)
    assert small_reads(file.reads)


def test_a_large_free_box_before_moov_is_skipped_without_reading_it() -> None:
    file = mp4_file(3, free_size=5_000_000)

    assert probe_video(file).duration_s == 3.0
    assert len(file.reads) == 2
    assert small_reads(file.reads)


@pytest.mark.parametrize(
    "options",
    [
        {"largesize_mdat": True},
        {"largesize_mdat": True, "moov_at_end": True},
        {"mdat_size_zero": True},
        {"version": 1, "moov_at_end": True},
    ],
)
def test_64_bit_and_size_zero_boxes(options: dict[str, bool]) -> None:
    info = probe_video(BytesReader(make_mp4(2.0, 640, 360, 25, **options)))

    assert (info.width, info.height, info.duration_s, info.fps) == (640, 360, 2.0, 25.0)


def test_fragmented_mp4_takes_duration_from_mehd_and_rate_from_trex() -> None:
    info = probe_video(BytesReader(make_mp4(4.0, 640, 360, 25, fragmented=True)))

    assert (info.duration_s, info.fps) == (4.0, 25.0)


@pytest.mark.parametrize(("rotation", "dims"), [(0, (720, 1280)), (90, (720, 1280)), (180, (720, 1280))])
def test_rotation_matrix_gives_display_dimensions(rotation: int, dims: tuple[int, int]) -> None:
    info = probe_video(BytesReader(make_mp4(1.0, 720, 1280, rotation=rotation)))

    assert (info.width, info.height) == dims


def test_mov_and_3gp_brands() -> None:
    assert probe_video(BytesReader(make_mov(1.0))).container == "mov"
    assert probe_video(BytesReader(make_mp4(1.0, brand="3gp4"))).container == "3gp"


def test_video_track_is_found_after_an_audio_track() -> None:
    info = probe_video(BytesReader(make_mp4(1.0, 1920, 1080, 50, codec="hvc1", audio=True)))

    assert (info.codec, info.width, info.height, info.fps) == ("h265", 1920, 1080, 50.0)


def test_file_without_a_video_track_is_refused() -> None:
    data = make_mp4(1.0).replace(b"vide", b"text")

    with pytest.raises(UnsupportedMediaError, match="no video track"):
        probe_video(BytesReader(data))


def test_heic_image_is_not_a_video() -> None:
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic")

    with pytest.raises(UnsupportedMediaError, match="HEIC"):
        probe_video(BytesReader(ftyp + struct.pack(">I4s", 16, b"meta") + bytes(8)))


def test_unknown_fourcc_is_reported_lowercase() -> None:
    assert probe_video(BytesReader(make_mp4(1.0, codec="apcn"))).codec == "apcn"


def test_probe_reads_a_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    size = mp4_file(5, 1080, 1920, 30, moov_at_end=True, payload_size=300_000_000).write_to(path)
    reader = FileReader(path)

    info = probe_video(reader)

    assert info.size_bytes == size == path.stat().st_size
    assert info.duration_s == 5.0
    assert len(reader.reads) == 2


# ----------------------------------------------------------------------------------------------- WebM


@settings(max_examples=50, deadline=None)
@given(
    width=st.integers(1, 8192),
    height=st.integers(1, 8192),
    fps=st.sampled_from([None, 24, 25, 30, 50, 60, 23.976, 29.97]),
    duration_ms=st.integers(40, 600_000),
    codec=st.sampled_from(["vp8", "vp9", "av1", "h264", "h265"]),
    metadata_at_end=st.booleans(),
    audio=st.booleans(),
    segment_unknown_size=st.booleans(),
    duration_float32=st.booleans(),
    doc_type=st.sampled_from(["webm", "matroska"]),
)
def test_webm_round_trip(
    width: int,
    height: int,
    fps: float | None,
    duration_ms: int,
    codec: str,
    metadata_at_end: bool,
    audio: bool,
    segment_unknown_size: bool,
    duration_float32: bool,
    doc_type: str,
) -> None:
    file = webm_file(
        duration_ms / 1000,
        width,
        height,
        fps,
        codec,
        metadata_at_end=metadata_at_end,
        audio=audio,
        segment_unknown_size=segment_unknown_size,
        duration_float32=duration_float32,
        doc_type=doc_type,
    )

    info = probe_video(file)

    assert info.container == ("webm" if doc_type == "webm" else "mkv")
    assert info.codec == codec
    assert (info.width, info.height) == (width, height)
    assert info.duration_s == pytest.approx(duration_ms / 1000, rel=1e-6 if duration_float32 else 1e-12)
    if fps is None:
        assert info.fps is None
    else:
        assert info.fps == pytest.approx(1e9 / round(1e9 / fps), rel=1e-12)
    assert len(file.reads) <= 3
    assert small_reads(file.reads)


def test_webm_metadata_after_a_large_media_part_is_found_through_the_seekhead() -> None:
    file = webm_file(20, 1080, 1920, 30, metadata_at_end=True, payload_size=200_000_000)

    info = probe_video(file)

    assert (info.width, info.height, info.duration_s) == (1080, 1920, 20.0)
    assert len(file.reads) == 2
    assert small_reads(file.reads)


def test_webm_with_unknown_codec_id() -> None:
    assert probe_video(BytesReader(make_webm(1.0, codec="V_THEORA"))).codec == "theora"
    assert probe_video(BytesReader(make_webm(1.0, codec="V_SOMETHING"))).codec == "v_something"


def test_webm_with_unsupported_doctype() -> None:
    data = make_webm(1.0).replace(b"webm", b"mkv3", 1)

    with pytest.raises(UnsupportedMediaError):
        probe_video(BytesReader(data))


# --------------------------------------------------------------------------------------------- photos


@settings(max_examples=40, deadline=None)
@given(width=st.integers(1, 5000), height=st.integers(1, 5000), progressive=st.booleans())
def test_jpeg_dimensions(width: int, height: int, progressive: bool) -> None:
    reader = CountingReader(make_jpeg(width, height, progressive=progressive))

    assert probe_image(reader) == ImageInfo("jpeg", width, height, reader.size)
    assert len(reader.reads) == 1


def test_jpeg_frame_header_behind_a_big_exif_block_takes_a_few_more_small_reads() -> None:
    reader = CountingReader(make_jpeg(4000, 3000, exif_size=250_000))

    info = probe_image(reader)

    assert (info.width, info.height) == (4000, 3000)
    assert 2 <= len(reader.reads) <= 6
    assert small_reads(reader.reads)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 16383),
    height=st.integers(1, 16383),
    kind=st.sampled_from(["lossless", "extended", "lossy"]),
)
def test_webp_dimensions(width: int, height: int, kind: str) -> None:
    data = make_webp(width, height, kind=kind)

    assert probe_image(BytesReader(data)) == ImageInfo("webp", width, height, len(data))


def test_png_and_gif_are_recognised_so_the_check_can_ask_for_jpeg() -> None:
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sII", 13, b"IHDR", 800, 600) + bytes(20)
    gif = b"GIF89a" + struct.pack("<HH", 320, 240) + bytes(20)

    assert probe_image(BytesReader(png)) == ImageInfo("png", 800, 600, len(png))
    assert probe_image(BytesReader(gif)) == ImageInfo("gif", 320, 240, len(gif))


def test_probe_media_dispatches_on_magic_bytes() -> None:
    assert isinstance(probe_media(BytesReader(make_jpeg(10, 10))), ImageInfo)
    assert isinstance(probe_media(BytesReader(make_webp(10, 10))), ImageInfo)
    assert isinstance(probe_media(BytesReader(make_mp4(1.0))), MediaInfo)
    assert isinstance(probe_media(BytesReader(make_webm(1.0))), MediaInfo)


# ------------------------------------------------------------------------------------ bad input, typed


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(40), "AVI"),
        (b"FLV\x01\x05" + bytes(40), "FLV"),
        (b"\x47\x40\x00\x10" + bytes(184), "MPEG-TS"),
        (b"hello, this is a text file and not a video at all", "MP4, MOV or WebM"),
        (make_jpeg(100, 100), "image"),
    ],
)
def test_other_formats_are_unsupported_with_a_helpful_message(data: bytes, fragment: str) -> None:
    with pytest.raises(UnsupportedMediaError, match=fragment) as caught:
        probe_video(BytesReader(data))
    assert isinstance(caught.value, InvalidInput)  # the API answers 422
    assert "MP4 (H.264)" in caught.value.message


def test_empty_file() -> None:
    with pytest.raises(TruncatedMediaError):
        probe_video(BytesReader(b""))
    with pytest.raises(TruncatedMediaError):
        probe_image(BytesReader(b""))


def test_photo_probe_refuses_non_images() -> None:
    with pytest.raises(UnsupportedMediaError, match="JPEG or WebP"):
        probe_image(BytesReader(make_mp4(1.0)))


@pytest.mark.parametrize("moov_at_end", [False, True])
def test_every_truncation_of_an_mp4_gives_a_typed_error_or_the_right_answer(moov_at_end: bool) -> None:
    data = make_mp4(1.0, 640, 360, 30, moov_at_end=moov_at_end, payload_size=600)
    moov_end = data.index(b"mdat") - 4 if not moov_at_end else len(data)
    for cut in range(len(data)):
        reader = BytesReader(data[:cut])
        if cut >= moov_end:
            assert probe_video(reader).width == 640  # moov complete: the rest is media data
            continue
        with pytest.raises(MediaProbeError):
            probe_video(reader)


def test_every_truncation_of_a_webm_header_gives_a_typed_error() -> None:
    data = make_webm(1.0, 640, 360, 30)
    clusters = data.index(b"\x1f\x43\xb6\x75")
    for cut in range(clusters):
        with pytest.raises(MediaProbeError):
            probe_video(BytesReader(data[:cut]))


def test_every_truncation_of_a_jpeg_header_gives_a_typed_error() -> None:
    data = make_jpeg(64, 48, exif_size=100)
    sof_end = data.index(b"\xff\xc0") + 9
    for cut in range(sof_end):
        with pytest.raises(MediaProbeError):
            probe_image(BytesReader(data[:cut]))


def test_box_smaller_than_its_header_is_corrupt() -> None:
    data = struct.pack(">I4s", 4, b"ftyp") + bytes(20)

    with pytest.raises(MediaProbeError, match="damaged"):
        probe_video(BytesReader(data))


def test_moov_claiming_more_bytes_than_the_file_has_is_truncated() -> None:
    data = make_mp4(1.0)
    at = data.index(b"moov") - 4
    bad = data[:at] + struct.pack(">I", 10_000_000) + data[at + 4 :]

    with pytest.raises(TruncatedMediaError):
        probe_video(BytesReader(bad))


def test_a_walk_over_endless_tiny_boxes_is_bounded() -> None:
    ftyp = struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 0)
    file = VirtualFile([ftyp + struct.pack(">I4s", 8, b"free") * 20_000])

    with pytest.raises(MediaTooComplexError):
        probe_video(file)
    assert len(file.reads) <= 4


VALID_FILES = [
    make_mp4(0.5, 640, 360, 30, payload_size=64),
    make_mp4(0.5, 640, 360, 30, moov_at_end=True, audio=True, payload_size=64),
    make_mp4(0.5, 640, 360, 30, fragmented=True, payload_size=64),
    make_webm(0.5, 640, 360, 30, payload_size=64),
    make_webm(0.5, 640, 360, 30, metadata_at_end=True, payload_size=64),
]
VALID_IMAGES = [make_jpeg(64, 64, exif_size=40), make_webp(64, 64), make_webp(64, 64, kind="extended")]


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(0, len(VALID_FILES) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_corrupted_videos_never_crash_the_probe(index: int, edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_FILES[index])
    for position, value in edits:
        data[position % len(data)] = value

    try:
        info = probe_video(BytesReader(bytes(data)))
    except MediaProbeError:
        return
    assert isinstance(info, MediaInfo)


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, len(VALID_IMAGES) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_corrupted_images_never_crash_the_probe(index: int, edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_IMAGES[index])
    for position, value in edits:
        data[position % len(data)] = value

    try:
        info = probe_image(BytesReader(bytes(data)))
    except MediaProbeError:
        return
    assert isinstance(info, ImageInfo)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"", b"\x00\x00\x00\x18ftyp", b"\x1a\x45\xdf\xa3", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP"]
    ),
    data=st.binary(max_size=600),
)
def test_garbage_never_crashes_the_probe(prefix: bytes, data: bytes) -> None:
    for probe in (probe_video, probe_image, probe_media):
        with contextlib.suppress(MediaProbeError):
            probe(BytesReader(prefix + data))
