"""WebM / Matroska: read from the start up to the first Cluster, following the SeekHead when Info/Tracks
come later."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from tiktok_publisher.domain.media import MediaInfo
from tiktok_publisher.publishing.probe.reader import (
    CORRUPT,
    MAX_ELEMENTS,
    READ_SIZE,
    TRUNCATED,
    MediaProbeError,
    MediaTooComplexError,
    Source,
    TruncatedMediaError,
    UnsupportedMediaError,
    unsupported_message,
)

_EBML = 0x1A45DFA3
_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_SEEKHEAD, _SEEK, _SEEK_ID, _SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
_INFO, _TIMECODE_SCALE, _DURATION = 0x1549A966, 0x2AD7B1, 0x4489
_TRACKS, _TRACK_ENTRY, _TRACK_TYPE, _CODEC_ID, _DEFAULT_DURATION = 0x1654AE6B, 0xAE, 0x83, 0x86, 0x23E383
_VIDEO, _PIXEL_WIDTH, _PIXEL_HEIGHT = 0xE0, 0xB0, 0xBA
_CLUSTER = 0x1F43B675

_MKV_CODECS = {
    "V_VP8": "vp8",
    "V_VP9": "vp9",
    "V_AV1": "av1",
    "V_MPEG4/ISO/AVC": "h264",
    "V_MPEGH/ISO/HEVC": "h265",
    "V_MPEG4/ISO/SP": "mpeg4",
    "V_MPEG4/ISO/ASP": "mpeg4",
    "V_MPEG4/ISO/AP": "mpeg4",
    "V_THEORA": "theora",
}


def _vint(data: bytes, pos: int, end: int, *, keep_marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length integer at ``pos``: (value, next_pos); value None for "unknown size"."""
    if pos >= end:
        raise TruncatedMediaError(TRUNCATED)
    first = data[pos]
    if first == 0:
        raise MediaProbeError(CORRUPT.format(kind="WebM"))
    length = 9 - first.bit_length()
    if pos + length > end:
        raise TruncatedMediaError(TRUNCATED)
    value = int.from_bytes(data[pos : pos + length], "big")
    if keep_marker:
        return value, pos + length
    value &= (1 << (7 * length)) - 1
    if value == (1 << (7 * length)) - 1:
        return None, pos + length
    return value, pos + length


def _element_header(data: bytes, pos: int, end: int) -> tuple[int, int | None, int]:
    """(id, size or None, data_start) of the element at ``pos``."""
    element_id, pos = _vint(data, pos, end, keep_marker=True)
    size, pos = _vint(data, pos, end, keep_marker=False)
    assert element_id is not None  # ids always keep their marker, never "unknown"
    return element_id, size, pos


def _ebml_children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, data_start, data_end) of each child of a master element occupying data[start:end]."""
    pos, count = start, 0
    while pos < end:
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError("The video's metadata has too many parts to read. Export it again.")
        element_id, size, data_start = _element_header(data, pos, end)
        data_end = end if size is None else data_start + size
        if data_end > end:
            raise MediaProbeError(CORRUPT.format(kind="WebM"))
        yield element_id, data_start, data_end
        pos = data_end


def _uint(data: bytes, start: int, end: int) -> int:
    if end - start > 8:
        raise MediaProbeError(CORRUPT.format(kind="WebM"))
    return int.from_bytes(data[start:end], "big")


def probe_matroska(src: Source) -> MediaInfo:
    head = src.peek(0, READ_SIZE)
    element_id, size, data_start = _element_header(head, 0, len(head))
    if element_id != _EBML or size is None:
        raise MediaProbeError(CORRUPT.format(kind="WebM"))
    header = src.exact(data_start, size, "EBML header")
    doc_type = "matroska"
    for child_id, c_start, c_end in _ebml_children(header, 0, len(header)):
        if child_id == _DOCTYPE:
            doc_type = header[c_start:c_end].rstrip(b"\x00").decode("ascii", "replace").lower()
    if doc_type not in ("webm", "matroska"):
        raise UnsupportedMediaError(unsupported_message(b"", "video"))
    container = "webm" if doc_type == "webm" else "mkv"

    pos = data_start + size
    seg_hdr = src.peek(pos, 12)
    element_id, _seg_size, segment_start = _element_header(seg_hdr, 0, len(seg_hdr))
    if element_id != _SEGMENT:
        raise MediaProbeError(CORRUPT.format(kind="WebM"))
    segment_start += pos

    info: bytes | None = None
    tracks: bytes | None = None
    seeks: dict[int, int] = {}
    pos, count = segment_start, 0
    while pos < src.size and (info is None or tracks is None):
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError("The video has too many top-level parts to read. Export it again.")
        hdr = src.peek(pos, 12)
        element_id, size, body = _element_header(hdr, 0, len(hdr))
        if element_id == _CLUSTER or size is None:
            break  # media data (or a live-style unknown size): metadata must be reached via the SeekHead
        if element_id == _INFO:
            info = src.exact(pos + body, size, "Info")
        elif element_id == _TRACKS:
            tracks = src.exact(pos + body, size, "Tracks")
        elif element_id == _SEEKHEAD and not seeks:
            seeks = _parse_seekhead(src.exact(pos + body, size, "SeekHead"))
        pos += body + size

    hops = 0
    while (info is None or tracks is None) and hops < 3:
        hops += 1
        if info is None and _INFO in seeks:
            info = _fetch_level1(src, segment_start + seeks[_INFO], _INFO)
        if tracks is None and _TRACKS in seeks:
            tracks = _fetch_level1(src, segment_start + seeks[_TRACKS], _TRACKS)
        if (info is None or tracks is None) and _SEEKHEAD in seeks:
            # A second SeekHead (muxers write one at the end when the first fills up).
            more = _fetch_level1(src, segment_start + seeks.pop(_SEEKHEAD), _SEEKHEAD)
            seeks.update({k: v for k, v in _parse_seekhead(more).items() if k not in seeks})
        else:
            break
    if tracks is None:
        raise TruncatedMediaError(
            "The WebM file has no track list; it may not have finished uploading. Upload it again."
        )
    return _parse_matroska_metadata(info, tracks, container, src.size)


def _fetch_level1(src: Source, pos: int, expected_id: int) -> bytes:
    if not 0 <= pos < src.size:
        raise MediaProbeError(CORRUPT.format(kind="WebM"))
    hdr = src.peek(pos, 12)
    element_id, size, body = _element_header(hdr, 0, len(hdr))
    if element_id != expected_id or size is None:
        raise MediaProbeError(CORRUPT.format(kind="WebM"))
    return src.exact(pos + body, size, "WebM header")


def _parse_seekhead(data: bytes) -> dict[int, int]:
    seeks: dict[int, int] = {}
    for child_id, c_start, c_end in _ebml_children(data, 0, len(data)):
        if child_id != _SEEK:
            continue
        target: int | None = None
        position: int | None = None
        for sub_id, s_start, s_end in _ebml_children(data, c_start, c_end):
            if sub_id == _SEEK_ID:
                target = _uint(data, s_start, s_end)
            elif sub_id == _SEEK_POSITION:
                position = _uint(data, s_start, s_end)
        if target is not None and position is not None:
            seeks.setdefault(target, position)
    return seeks


def _parse_matroska_metadata(info: bytes | None, tracks: bytes, container: str, size: int) -> MediaInfo:
    timecode_scale, duration = 1_000_000, None
    if info is not None:
        for child_id, c_start, c_end in _ebml_children(info, 0, len(info)):
            if child_id == _TIMECODE_SCALE:
                timecode_scale = _uint(info, c_start, c_end) or 1_000_000
            elif child_id == _DURATION:
                duration = _float(info, c_start, c_end)
    for child_id, c_start, c_end in _ebml_children(tracks, 0, len(tracks)):
        if child_id != _TRACK_ENTRY:
            continue
        track_type, codec_id, default_duration, width, height = 0, "", 0, 0, 0
        for sub_id, s_start, s_end in _ebml_children(tracks, c_start, c_end):
            if sub_id == _TRACK_TYPE:
                track_type = _uint(tracks, s_start, s_end)
            elif sub_id == _CODEC_ID:
                codec_id = tracks[s_start:s_end].rstrip(b"\x00").decode("ascii", "replace")
            elif sub_id == _DEFAULT_DURATION:
                default_duration = _uint(tracks, s_start, s_end)
            elif sub_id == _VIDEO:
                for v_id, v_start, v_end in _ebml_children(tracks, s_start, s_end):
                    if v_id == _PIXEL_WIDTH:
                        width = _uint(tracks, v_start, v_end)
                    elif v_id == _PIXEL_HEIGHT:
                        height = _uint(tracks, v_start, v_end)
        if track_type != 1:
            continue
        codec = _MKV_CODECS.get(codec_id) or codec_id.lower() or "unknown"
        duration_s = duration * timecode_scale / 1e9 if duration is not None else None
        fps = 1e9 / default_duration if default_duration else None
        return MediaInfo(container, codec, width, height, duration_s, fps, size)
    raise UnsupportedMediaError("The file has no video track. Export it again as a video (MP4, H.264).")


def _float(data: bytes, start: int, end: int) -> float:
    length = end - start
    if length == 0:
        return 0.0
    if length == 4:
        return float(struct.unpack_from(">f", data, start)[0])
    if length == 8:
        return float(struct.unpack_from(">d", data, start)[0])
    raise MediaProbeError(CORRUPT.format(kind="WebM"))
