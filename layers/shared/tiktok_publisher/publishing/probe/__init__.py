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

from tiktok_publisher.domain.media import ImageInfo, MediaInfo
from tiktok_publisher.ports import RangeReader
from tiktok_publisher.publishing.probe.images import probe_jpeg, probe_webp
from tiktok_publisher.publishing.probe.isobmff import is_isobmff, probe_isobmff
from tiktok_publisher.publishing.probe.matroska import probe_matroska
from tiktok_publisher.publishing.probe.reader import (
    CORRUPT,
    MAX_METADATA_SIZE,
    READ_SIZE,
    TRUNCATED,
    BytesReader,
    MediaProbeError,
    MediaTooComplexError,
    TruncatedMediaError,
    UnsupportedMediaError,
    start,
    u32,
    unsupported_message,
)

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


def probe_video(reader: RangeReader) -> MediaInfo:
    """Read a video's MediaInfo (MP4/MOV or WebM/Matroska) with a few small range reads."""
    src = start(reader)
    head = src.peek(0, 16)
    try:
        if is_isobmff(head):
            return probe_isobmff(src)
        if head[:4] == b"\x1a\x45\xdf\xa3":
            return probe_matroska(src)
    except (struct.error, IndexError, ValueError, OverflowError, UnicodeDecodeError) as exc:
        # Defence in depth: the parsers check bounds themselves; anything slipping through is still "corrupt".
        raise MediaProbeError(CORRUPT.format(kind="video")) from exc
    raise UnsupportedMediaError(unsupported_message(head, "video"))


def probe_image(reader: RangeReader) -> ImageInfo:
    """Read a photo's ImageInfo (JPEG, WebP; PNG and GIF are recognised so the check can say "convert it")."""
    src = start(reader)
    head = src.peek(0, 32)
    try:
        if head[:3] == b"\xff\xd8\xff":
            return probe_jpeg(src)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return probe_webp(src)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            if len(head) < 24 or head[12:16] != b"IHDR":
                raise TruncatedMediaError(TRUNCATED)
            return ImageInfo("png", u32(head, 16), u32(head, 20), src.size)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            if len(head) < 10:
                raise TruncatedMediaError(TRUNCATED)
            width, height = struct.unpack_from("<HH", head, 6)
            return ImageInfo("gif", width, height, src.size)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise MediaProbeError(CORRUPT.format(kind="image")) from exc
    raise UnsupportedMediaError(unsupported_message(head, "photo"))


def probe_media(reader: RangeReader) -> MediaInfo | ImageInfo:
    """Probe a file of either kind, chosen by its magic bytes."""
    head = start(reader).peek(0, 16)
    if head[:3] == b"\xff\xd8\xff" or head[:4] in (b"\x89PNG", b"GIF8") or head[8:12] == b"WEBP":
        return probe_image(reader)
    return probe_video(reader)
