"""Photos: JPEG and WebP headers walked for their dimensions (PNG and GIF are recognised by probe_image only
to say "convert it")."""

from __future__ import annotations

import struct

from tiktok_publisher.domain.media import ImageInfo
from tiktok_publisher.publishing.probe.reader import (
    MAX_ELEMENTS,
    TRUNCATED,
    MediaProbeError,
    MediaTooComplexError,
    Source,
    TruncatedMediaError,
    u16,
)

# SOFn markers: every C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD9)})
_JPEG_DAMAGED = "The JPEG is damaged. Save it again as JPEG and try again."


def probe_jpeg(src: Source) -> ImageInfo:
    pos, count = 2, 0
    while True:
        count += 1
        if count > MAX_ELEMENTS:
            raise MediaTooComplexError("The photo has too many header parts to read. Save it again as JPEG.")
        hdr = src.peek(pos, 4)
        if len(hdr) < 2:
            raise TruncatedMediaError(TRUNCATED)
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
            raise TruncatedMediaError(TRUNCATED)
        length = u16(hdr, 2)
        if length < 2:
            raise MediaProbeError(_JPEG_DAMAGED)
        if marker in _SOF_MARKERS:
            sof = src.exact(pos + 4, min(length - 2, 6), "JPEG frame header")
            if len(sof) < 5:
                raise MediaProbeError(_JPEG_DAMAGED)
            height, width = u16(sof, 1), u16(sof, 3)
            if not (width and height):
                raise MediaProbeError("The JPEG doesn't state its size. Save it again as JPEG and try again.")
            return ImageInfo("jpeg", width, height, src.size)
        pos += 2 + length


def probe_webp(src: Source) -> ImageInfo:
    head = src.peek(0, 30)
    if len(head) < 30:
        raise TruncatedMediaError(TRUNCATED)
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
