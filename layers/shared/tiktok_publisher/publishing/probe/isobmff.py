"""MP4 / MOV (ISO-BMFF): walked box by box from the start; the ``moov`` box (metadata) is fetched whole,
wherever it is (front for fast-start files, end otherwise), so a typical file costs 1-3 reads of <= 64 KiB
plus ``moov`` itself (capped at MAX_METADATA_SIZE)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tiktok_publisher.domain.media import MediaInfo
from tiktok_publisher.publishing.probe.reader import (
    CORRUPT,
    MAX_ELEMENTS,
    TRUNCATED,
    MediaProbeError,
    MediaTooComplexError,
    Source,
    TruncatedMediaError,
    UnsupportedMediaError,
    i32,
    u16,
    u32,
    u64,
)


def is_isobmff(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")


_ISO_TEXT = range(0x20, 0x7F)


def _box_header(src: Source, pos: int) -> tuple[bytes, int, int]:
    """(type, header_length, total_size) of the top-level box at ``pos``."""
    hdr = src.peek(pos, 16)
    if len(hdr) < 8:
        raise TruncatedMediaError(TRUNCATED)
    size32, box_type = u32(hdr, 0), hdr[4:8]
    if any(c not in _ISO_TEXT for c in box_type):
        raise MediaProbeError(CORRUPT.format(kind="MP4/MOV"))
    if size32 == 1:
        if len(hdr) < 16:
            raise TruncatedMediaError(TRUNCATED)
        header_len, size = 16, u64(hdr, 8)
    elif size32 == 0:
        header_len, size = 8, src.size - pos
    else:
        header_len, size = 8, size32
    if size < header_len:
        raise MediaProbeError(CORRUPT.format(kind="MP4/MOV"))
    return box_type, header_len, size


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload_start, payload_end) of each box inside data[start:end]."""
    pos, count = start, 0
    while pos + 8 <= end:
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError("The video's metadata has too many parts to read. Export it again.")
        size32, box_type = u32(data, pos), data[pos + 4 : pos + 8]
        header_len = 8
        if size32 == 1:
            if pos + 16 > end:
                raise MediaProbeError(CORRUPT.format(kind="MP4/MOV"))
            size, header_len = u64(data, pos + 8), 16
        elif size32 == 0:
            size = end - pos
        else:
            size = size32
        if size < header_len or pos + size > end:
            raise MediaProbeError(CORRUPT.format(kind="MP4/MOV"))
        yield box_type, pos + header_len, pos + size
        pos += size


def _find(data: bytes, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    """Payload bounds of the first box along ``path`` (e.g. b"mdia", b"mdhd") inside data[start:end]."""
    for box_type, p_start, p_end in _children(data, start, end):
        if box_type == path[0]:
            return (p_start, p_end) if len(path) == 1 else _find(data, p_start, p_end, *path[1:])
    return None


_MP4_CODECS = {
    b"avc1": "h264",
    b"avc2": "h264",
    b"avc3": "h264",
    b"avc4": "h264",
    b"hvc1": "h265",
    b"hev1": "h265",
    b"vp08": "vp8",
    b"vp09": "vp9",
    b"av01": "av1",
    b"mp4v": "mpeg4",
}
_MOV_BRANDS = {b"qt  "}
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_VISUAL_ENTRY_FIXED = 78  # bytes of a VisualSampleEntry before its child boxes


@dataclass(slots=True)
class _Track:
    handler: bytes = b""
    width: int = 0
    height: int = 0
    rotated: bool = False
    timescale: int = 0
    duration: int = 0
    track_id: int = 0
    codec_tag: bytes = b""
    entry_width: int = 0
    entry_height: int = 0
    samples: int = 0
    ticks: int = 0


def probe_isobmff(src: Source) -> MediaInfo:
    brand: bytes | None = None
    moov: bytes | None = None
    pos, count = 0, 0
    while pos < src.size:
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError(
                "The video has too many top-level parts to read. Export it again as MP4."
            )
        box_type, header_len, size = _box_header(src, pos)
        if box_type == b"ftyp" and brand is None:
            payload = src.exact(pos + header_len, min(size - header_len, 4), "ftyp")
            brand = payload[:4]
        elif box_type == b"moov":
            moov = src.exact(pos + header_len, size - header_len, "moov")
            break
        if pos + size > src.size:
            raise TruncatedMediaError(TRUNCATED)
        pos += size
    if brand is not None and brand in _IMAGE_BRANDS:
        raise UnsupportedMediaError(
            "This is a HEIC/AVIF image, not a video. Export the video as MP4 (H.264)."
        )
    if moov is None:
        raise TruncatedMediaError(
            "The video has no index (moov box): it may not have finished uploading, or it isn't a finished "
            "MP4/MOV file. Upload it again."
        )
    if brand is None or brand in _MOV_BRANDS:
        container = "mov"
    elif brand.startswith((b"3gp", b"3g2")):
        container = "3gp"
    else:
        container = "mp4"
    return _parse_moov(moov, container, src.size)


def _parse_moov(moov: bytes, container: str, size: int) -> MediaInfo:
    movie_timescale = movie_duration = 0
    fragment_duration = 0
    default_durations: dict[int, int] = {}
    video: _Track | None = None
    for box_type, start, end in _children(moov, 0, len(moov)):
        if box_type == b"mvhd":
            movie_timescale, movie_duration = _timescale_duration(moov, start, end)
        elif box_type == b"mvex":
            for sub, s_start, s_end in _children(moov, start, end):
                if sub == b"mehd":
                    fragment_duration = (
                        u64(moov, s_start + 4) if moov[s_start] == 1 else u32(moov, s_start + 4)
                    )
                elif sub == b"trex" and s_end - s_start >= 16:
                    default_durations[u32(moov, s_start + 4)] = u32(moov, s_start + 12)
        elif box_type == b"trak" and video is None:
            track = _parse_trak(moov, start, end)
            if track.handler == b"vide":
                video = track
    if video is None:
        raise UnsupportedMediaError("The file has no video track. Export it again as a video (MP4, H.264).")

    duration_s: float | None = None
    unknown = {0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF}
    if movie_timescale and movie_duration not in unknown:
        duration_s = movie_duration / movie_timescale
    elif movie_timescale and fragment_duration not in unknown:
        duration_s = fragment_duration / movie_timescale
    elif video.timescale and video.duration not in unknown:
        duration_s = video.duration / video.timescale

    fps: float | None = None
    if video.timescale and video.samples and video.ticks:
        fps = video.samples * video.timescale / video.ticks
    elif video.timescale and default_durations.get(video.track_id):
        fps = video.timescale / default_durations[video.track_id]

    width, height = video.width, video.height
    if not (width and height):
        width, height = video.entry_width, video.entry_height
    if video.rotated:
        width, height = height, width
    tag = video.codec_tag
    codec = _MP4_CODECS.get(tag) or tag.decode("latin-1").strip().lower() or "unknown"
    return MediaInfo(container, codec, width, height, duration_s, fps, size)


def _timescale_duration(data: bytes, start: int, end: int) -> tuple[int, int]:
    """(timescale, duration) of an mvhd/mdhd payload, version 0 or 1."""
    if data[start] == 1:
        if end - start < 32:
            raise MediaProbeError(CORRUPT.format(kind="MP4/MOV"))
        return u32(data, start + 20), u64(data, start + 24)
    if end - start < 20:
        raise MediaProbeError(CORRUPT.format(kind="MP4/MOV"))
    return u32(data, start + 12), u32(data, start + 16)


def _parse_trak(data: bytes, start: int, end: int) -> _Track:
    track = _Track()
    tkhd = _find(data, start, end, b"tkhd")
    if tkhd is not None:
        t_start, t_end = tkhd
        body = t_start + (36 if data[t_start] == 1 else 24)  # past version/flags, times, track id, duration
        track.track_id = u32(data, t_start + (20 if data[t_start] == 1 else 12))
        if t_end - body >= 60:
            matrix = body + 16  # 8 reserved, layer, alternate_group, volume, reserved
            a, b, c, d = (
                i32(data, matrix),
                i32(data, matrix + 4),
                i32(data, matrix + 12),
                i32(data, matrix + 16),
            )
            track.rotated = a == 0 and d == 0 and b != 0 and c != 0
            track.width = u32(data, matrix + 36) >> 16
            track.height = u32(data, matrix + 40) >> 16
    mdia = _find(data, start, end, b"mdia")
    if mdia is None:
        return track
    for box_type, b_start, b_end in _children(data, *mdia):
        if box_type == b"mdhd":
            track.timescale, track.duration = _timescale_duration(data, b_start, b_end)
        elif box_type == b"hdlr" and b_end - b_start >= 12:
            track.handler = data[b_start + 8 : b_start + 12]
    if track.handler != b"vide":
        return track
    stbl = _find(data, *mdia, b"minf", b"stbl")
    if stbl is None:
        return track
    for box_type, b_start, b_end in _children(data, *stbl):
        if box_type == b"stsd" and b_end - b_start >= 16:
            _parse_stsd(data, b_start, b_end, track)
        elif box_type == b"stts" and b_end - b_start >= 8:
            entries = min(u32(data, b_start + 4), (b_end - b_start - 8) // 8)
            for i in range(entries):
                count, delta = u32(data, b_start + 8 + 8 * i), u32(data, b_start + 12 + 8 * i)
                track.samples += count
                track.ticks += count * delta
    return track


def _parse_stsd(data: bytes, start: int, end: int, track: _Track) -> None:
    # First sample entry: size, fourcc, then the VisualSampleEntry fields.
    entry_start = start + 8
    entry_size, tag = u32(data, entry_start), data[entry_start + 4 : entry_start + 8]
    entry_end = min(end, entry_start + entry_size) if entry_size >= 8 else end
    track.codec_tag = tag
    fixed = entry_start + 8
    if entry_end - fixed >= _VISUAL_ENTRY_FIXED:
        track.entry_width, track.entry_height = u16(data, fixed + 24), u16(data, fixed + 26)
        if tag in (b"encv", b"resv"):
            # Encrypted/restricted entries keep the real codec in sinf/frma.
            frma = _find(data, fixed + _VISUAL_ENTRY_FIXED, entry_end, b"sinf", b"frma")
            if frma is not None and frma[1] - frma[0] >= 4:
                track.codec_tag = data[frma[0] : frma[0] + 4]
