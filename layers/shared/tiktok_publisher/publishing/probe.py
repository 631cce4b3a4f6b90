"""Media probe: container, codec, dimensions, duration and frame rate of a video, dimensions of a photo.

It never reads a whole file: it asks a :class:`RangeReader` (an S3 object, a file, bytes) for a few small byte
ranges. An MP4/MOV is walked box by box from the start; the ``moov`` box (metadata) is fetched whole, wherever
it is (front for fast-start files, end otherwise), so a typical file costs 1-3 reads of <= 64 KiB plus
``moov`` itself (capped at 16 MiB). A WebM/Matroska file is read from its start up to the first Cluster,
following the SeekHead when Info/Tracks come later. Photos (JPEG, WebP; PNG/GIF only to say "convert it") are
sniffed by magic bytes and their headers walked.

Everything is pure parsing of bytes; corrupt, truncated or unknown input raises a MediaProbeError subclass
(never IndexError/struct.error), and every loop is bounded so hostile sizes cannot make it spin.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from tiktok_publisher.domain.errors import InvalidInput
from tiktok_publisher.domain.media import ImageInfo, MediaInfo

READ_SIZE = 64 * 1024  # one "small read"
MAX_METADATA_SIZE = 16 * 1024 * 1024  # moov / Matroska Info+Tracks larger than this is refused
MAX_ELEMENTS = 10_000  # top-level boxes/elements/markers walked before giving up

__all__ = [
    "MAX_METADATA_SIZE",
    "READ_SIZE",
    "BytesReader",
    "MediaProbeError",
    "MediaTooComplexError",
    "RangeReader",
    "TruncatedMediaError",
    "UnsupportedMediaError",
    "probe_image",
    "probe_media",
    "probe_video",
]


class RangeReader(Protocol):
    """Random access to a file of known size. ``read`` may return fewer bytes only at the end of the file."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BytesReader:
    """A RangeReader over bytes already in memory."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset : offset + length]


class MediaProbeError(InvalidInput):
    """The file cannot be read as a video/photo we understand. ``message`` is safe to show the user."""

    code = "unreadable_media"


class UnsupportedMediaError(MediaProbeError):
    """A format we recognise (or not at all) that TikTok does not take."""

    code = "unsupported_media"


class TruncatedMediaError(MediaProbeError):
    """The file ends before its own structure says it should (an incomplete upload)."""

    code = "truncated_media"


class MediaTooComplexError(MediaProbeError):
    """Metadata larger than MAX_METADATA_SIZE, or more structure than we are willing to walk."""

    code = "media_too_complex"


_TRUNCATED = "The file ends too early; it may not have finished uploading. Upload it again."
_CORRUPT = "The file is damaged or is not a valid {kind} file. Export it again as MP4 (H.264) and try again."


@dataclass(slots=True)
class _Source:
    """Reads through a one-window cache, so neighbouring small reads cost a single call to the reader."""

    reader: RangeReader
    size: int
    window_offset: int = 0
    window: bytes = b""
    reads: int = field(default=0)

    def peek(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer only at the end of the file)."""
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        end = offset + length
        if self.window_offset <= offset and end <= self.window_offset + len(self.window):
            start = offset - self.window_offset
            return self.window[start : start + length]
        want = max(length, min(READ_SIZE, self.size - offset))
        data = self._read(offset, want)
        self.window_offset, self.window = offset, data
        return data[:length]

    def exact(self, offset: int, length: int, what: str) -> bytes:
        """Exactly ``length`` bytes at ``offset``; reuses the cached window for the part it already holds."""
        if length > MAX_METADATA_SIZE:
            raise MediaTooComplexError(
                f"The file's {what} metadata is {length:,} bytes, more than we read ({MAX_METADATA_SIZE:,}). "
                "Export the video again with a standard encoder and try again."
            )
        if offset < 0 or offset + length > self.size:
            raise TruncatedMediaError(_TRUNCATED)
        have = b""
        win_end = self.window_offset + len(self.window)
        if self.window_offset <= offset < win_end:
            have = self.window[offset - self.window_offset : offset - self.window_offset + length]
        rest = length - len(have)
        data = have + (self._read(offset + len(have), rest) if rest else b"")
        if len(data) < length:
            raise TruncatedMediaError(_TRUNCATED)
        return data

    def _read(self, offset: int, length: int) -> bytes:
        self.reads += 1
        data = bytes(self.reader.read(offset, length))
        return data[:length]


def _u8(b: bytes, o: int) -> int:
    return b[o]


def _u16(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">H", b, o)[0])


def _u32(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">I", b, o)[0])


def _i32(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">i", b, o)[0])


def _u64(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">Q", b, o)[0])


# ---------------------------------------------------------------------------------------------------- entry


def probe_video(reader: RangeReader) -> MediaInfo:
    """Read a video's MediaInfo (MP4/MOV or WebM/Matroska) with a few small range reads."""
    src = _start(reader)
    head = src.peek(0, 16)
    try:
        if _is_isobmff(head):
            return _probe_isobmff(src)
        if head[:4] == b"\x1a\x45\xdf\xa3":
            return _probe_matroska(src)
    except (struct.error, IndexError, ValueError, OverflowError, UnicodeDecodeError) as exc:
        # Defence in depth: the parsers check bounds themselves; anything slipping through is still "corrupt".
        raise MediaProbeError(_CORRUPT.format(kind="video")) from exc
    raise UnsupportedMediaError(_unsupported_message(head, "video"))


def probe_image(reader: RangeReader) -> ImageInfo:
    """Read a photo's ImageInfo (JPEG, WebP; PNG and GIF are recognised so the check can say "convert it")."""
    src = _start(reader)
    head = src.peek(0, 32)
    try:
        if head[:3] == b"\xff\xd8\xff":
            return _probe_jpeg(src)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _probe_webp(src)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            if len(head) < 24 or head[12:16] != b"IHDR":
                raise TruncatedMediaError(_TRUNCATED)
            return ImageInfo("png", _u32(head, 16), _u32(head, 20), src.size)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            if len(head) < 10:
                raise TruncatedMediaError(_TRUNCATED)
            width, height = struct.unpack_from("<HH", head, 6)
            return ImageInfo("gif", width, height, src.size)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise MediaProbeError(_CORRUPT.format(kind="image")) from exc
    raise UnsupportedMediaError(_unsupported_message(head, "photo"))


def probe_media(reader: RangeReader) -> MediaInfo | ImageInfo:
    """Probe a file of either kind, chosen by its magic bytes."""
    head = _start(reader).peek(0, 16)
    if head[:3] == b"\xff\xd8\xff" or head[:4] in (b"\x89PNG", b"GIF8") or head[8:12] == b"WEBP":
        return probe_image(reader)
    return probe_video(reader)


def _start(reader: RangeReader) -> _Source:
    size = int(reader.size)
    if size <= 0:
        raise TruncatedMediaError("The file is empty. Upload it again.")
    return _Source(reader, size)


def _is_isobmff(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")


def _unsupported_message(head: bytes, kind: str) -> str:
    name = None
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        name = "AVI"
    elif head[:3] == b"FLV":
        name = "FLV"
    elif head[:1] == b"\x47":
        name = "MPEG-TS"
    elif head[:4] == b"\x00\x00\x01\xba":
        name = "MPEG-PS"
    elif head[:4] in (b"\x30\x26\xb2\x75",):
        name = "WMV/ASF"
    elif (
        head[:3] == b"\xff\xd8\xff"
        or head[:4] in (b"\x89PNG", b"GIF8")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    ):
        name = "an image"
    if kind == "video":
        fix = "Export it as MP4 (H.264) and try again."
        return (
            f"This file is {name}, not a video TikTok accepts. {fix}"
            if name
            else (f"This file isn't an MP4, MOV or WebM video. {fix}")
        )
    return "This file isn't a JPEG or WebP photo. Save it as JPEG and try again."


# ------------------------------------------------------------------------------------------------ ISO-BMFF

_ISO_TEXT = range(0x20, 0x7F)


def _box_header(src: _Source, pos: int) -> tuple[bytes, int, int]:
    """(type, header_length, total_size) of the top-level box at ``pos``."""
    hdr = src.peek(pos, 16)
    if len(hdr) < 8:
        raise TruncatedMediaError(_TRUNCATED)
    size32, box_type = _u32(hdr, 0), hdr[4:8]
    if any(c not in _ISO_TEXT for c in box_type):
        raise MediaProbeError(_CORRUPT.format(kind="MP4/MOV"))
    if size32 == 1:
        if len(hdr) < 16:
            raise TruncatedMediaError(_TRUNCATED)
        header_len, size = 16, _u64(hdr, 8)
    elif size32 == 0:
        header_len, size = 8, src.size - pos
    else:
        header_len, size = 8, size32
    if size < header_len:
        raise MediaProbeError(_CORRUPT.format(kind="MP4/MOV"))
    return box_type, header_len, size


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload_start, payload_end) of each box inside data[start:end]."""
    pos, count = start, 0
    while pos + 8 <= end:
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError("The video's metadata has too many parts to read. Export it again.")
        size32, box_type = _u32(data, pos), data[pos + 4 : pos + 8]
        header_len = 8
        if size32 == 1:
            if pos + 16 > end:
                raise MediaProbeError(_CORRUPT.format(kind="MP4/MOV"))
            size, header_len = _u64(data, pos + 8), 16
        elif size32 == 0:
            size = end - pos
        else:
            size = size32
        if size < header_len or pos + size > end:
            raise MediaProbeError(_CORRUPT.format(kind="MP4/MOV"))
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


def _probe_isobmff(src: _Source) -> MediaInfo:
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
            raise TruncatedMediaError(_TRUNCATED)
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
                        _u64(moov, s_start + 4) if moov[s_start] == 1 else _u32(moov, s_start + 4)
                    )
                elif sub == b"trex" and s_end - s_start >= 16:
                    default_durations[_u32(moov, s_start + 4)] = _u32(moov, s_start + 12)
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
            raise MediaProbeError(_CORRUPT.format(kind="MP4/MOV"))
        return _u32(data, start + 20), _u64(data, start + 24)
    if end - start < 20:
        raise MediaProbeError(_CORRUPT.format(kind="MP4/MOV"))
    return _u32(data, start + 12), _u32(data, start + 16)


def _parse_trak(data: bytes, start: int, end: int) -> _Track:
    track = _Track()
    tkhd = _find(data, start, end, b"tkhd")
    if tkhd is not None:
        t_start, t_end = tkhd
        body = t_start + (36 if data[t_start] == 1 else 24)  # past version/flags, times, track id, duration
        track.track_id = _u32(data, t_start + (20 if data[t_start] == 1 else 12))
        if t_end - body >= 60:
            matrix = body + 16  # 8 reserved, layer, alternate_group, volume, reserved
            a, b, c, d = (
                _i32(data, matrix),
                _i32(data, matrix + 4),
                _i32(data, matrix + 12),
                _i32(data, matrix + 16),
            )
            track.rotated = a == 0 and d == 0 and b != 0 and c != 0
            track.width = _u32(data, matrix + 36) >> 16
            track.height = _u32(data, matrix + 40) >> 16
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
            entries = min(_u32(data, b_start + 4), (b_end - b_start - 8) // 8)
            for i in range(entries):
                count, delta = _u32(data, b_start + 8 + 8 * i), _u32(data, b_start + 12 + 8 * i)
                track.samples += count
                track.ticks += count * delta
    return track


def _parse_stsd(data: bytes, start: int, end: int, track: _Track) -> None:
    # First sample entry: size, fourcc, then the VisualSampleEntry fields.
    entry_start = start + 8
    entry_size, tag = _u32(data, entry_start), data[entry_start + 4 : entry_start + 8]
    entry_end = min(end, entry_start + entry_size) if entry_size >= 8 else end
    track.codec_tag = tag
    fixed = entry_start + 8
    if entry_end - fixed >= _VISUAL_ENTRY_FIXED:
        track.entry_width, track.entry_height = _u16(data, fixed + 24), _u16(data, fixed + 26)
        if tag in (b"encv", b"resv"):
            # Encrypted/restricted entries keep the real codec in sinf/frma.
            frma = _find(data, fixed + _VISUAL_ENTRY_FIXED, entry_end, b"sinf", b"frma")
            if frma is not None and frma[1] - frma[0] >= 4:
                track.codec_tag = data[frma[0] : frma[0] + 4]


# ---------------------------------------------------------------------------------------------- Matroska

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
        raise TruncatedMediaError(_TRUNCATED)
    first = data[pos]
    if first == 0:
        raise MediaProbeError(_CORRUPT.format(kind="WebM"))
    length = 9 - first.bit_length()
    if pos + length > end:
        raise TruncatedMediaError(_TRUNCATED)
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
            raise MediaProbeError(_CORRUPT.format(kind="WebM"))
        yield element_id, data_start, data_end
        pos = data_end


def _uint(data: bytes, start: int, end: int) -> int:
    if end - start > 8:
        raise MediaProbeError(_CORRUPT.format(kind="WebM"))
    return int.from_bytes(data[start:end], "big")


def _probe_matroska(src: _Source) -> MediaInfo:
    head = src.peek(0, READ_SIZE)
    element_id, size, data_start = _element_header(head, 0, len(head))
    if element_id != _EBML or size is None:
        raise MediaProbeError(_CORRUPT.format(kind="WebM"))
    header = src.exact(data_start, size, "EBML header")
    doc_type = "matroska"
    for child_id, c_start, c_end in _ebml_children(header, 0, len(header)):
        if child_id == _DOCTYPE:
            doc_type = header[c_start:c_end].rstrip(b"\x00").decode("ascii", "replace").lower()
    if doc_type not in ("webm", "matroska"):
        raise UnsupportedMediaError(_unsupported_message(b"", "video"))
    container = "webm" if doc_type == "webm" else "mkv"

    pos = data_start + size
    seg_hdr = src.peek(pos, 12)
    element_id, _seg_size, segment_start = _element_header(seg_hdr, 0, len(seg_hdr))
    if element_id != _SEGMENT:
        raise MediaProbeError(_CORRUPT.format(kind="WebM"))
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


def _fetch_level1(src: _Source, pos: int, expected_id: int) -> bytes:
    if not 0 <= pos < src.size:
        raise MediaProbeError(_CORRUPT.format(kind="WebM"))
    hdr = src.peek(pos, 12)
    element_id, size, body = _element_header(hdr, 0, len(hdr))
    if element_id != expected_id or size is None:
        raise MediaProbeError(_CORRUPT.format(kind="WebM"))
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
    raise MediaProbeError(_CORRUPT.format(kind="WebM"))


# ------------------------------------------------------------------------------------------------- photos

# SOFn markers: every C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD9)})
_JPEG_DAMAGED = "The JPEG is damaged. Save it again as JPEG and try again."


def _probe_jpeg(src: _Source) -> ImageInfo:
    pos, count = 2, 0
    while True:
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError("The photo has too many header parts to read. Save it again as JPEG.")
        hdr = src.peek(pos, 4)
        if len(hdr) < 2:
            raise TruncatedMediaError(_TRUNCATED)
        if hdr[0] != 0xFF:
            raise MediaProbeError(_JPEG_DAMAGED)
        marker = hdr[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE_MARKERS:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            raise MediaProbeError("The JPEG has no frame header (size). Save it again as JPEG and try again.")
        if len(hdr) < 4:
            raise TruncatedMediaError(_TRUNCATED)
        length = _u16(hdr, 2)
        if length < 2:
            raise MediaProbeError(_JPEG_DAMAGED)
        if marker in _SOF_MARKERS:
            sof = src.exact(pos + 4, min(length - 2, 6), "JPEG frame header")
            if len(sof) < 5:
                raise MediaProbeError(_JPEG_DAMAGED)
            height, width = _u16(sof, 1), _u16(sof, 3)
            if not (width and height):
                raise MediaProbeError("The JPEG doesn't state its size. Save it again as JPEG and try again.")
            return ImageInfo("jpeg", width, height, src.size)
        pos += 2 + length


def _probe_webp(src: _Source) -> ImageInfo:
    head = src.peek(0, 30)
    if len(head) < 30:
        raise TruncatedMediaError(_TRUNCATED)
    chunk, data = head[12:16], head[20:30]
    if chunk == b"VP8 ":
        if data[3:6] != b"\x9d\x01\x2a":
            raise MediaProbeError("The WebP image is damaged. Save it again and try again.")
        width, height = (
            struct.unpack_from("<H", data, 6)[0] & 0x3FFF,
            struct.unpack_from("<H", data, 8)[0] & 0x3FFF,
        )
    elif chunk == b"VP8L":
        if data[0] != 0x2F:
            raise MediaProbeError("The WebP image is damaged. Save it again and try again.")
        bits = int(struct.unpack_from("<I", data, 1)[0])
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":
        width = int.from_bytes(data[4:7], "little") + 1
        height = int.from_bytes(data[7:10], "little") + 1
    else:
        raise MediaProbeError("The WebP image is damaged. Save it again and try again.")
    if not (width and height):
        raise MediaProbeError("The WebP image doesn't state its size. Save it again and try again.")
    return ImageInfo("webp", width, height, src.size)
