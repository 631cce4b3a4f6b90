"""What every format's parser reads through: a one-window cache over a RangeReader, big-endian integers,
the probe's errors and their messages. Pure: bytes in, numbers out; bounded everywhere."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from tiktok_publisher.domain.errors import InvalidInput
from tiktok_publisher.ports import RangeReader

READ_SIZE = 64 * 1024  # one "small read"
MAX_METADATA_SIZE = 16 * 1024 * 1024  # moov / Matroska Info+Tracks larger than this is refused
MAX_ELEMENTS = 10_000  # top-level boxes/elements/markers walked before giving up


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


TRUNCATED = "The file ends too early; it may not have finished uploading. Upload it again."
CORRUPT = "The file is damaged or is not a valid {kind} file. Export it again as MP4 (H.264) and try again."


@dataclass(slots=True)
class Source:
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
            raise TruncatedMediaError(TRUNCATED)
        have = b""
        win_end = self.window_offset + len(self.window)
        if self.window_offset <= offset < win_end:
            have = self.window[offset - self.window_offset : offset - self.window_offset + length]
        rest = length - len(have)
        data = have + (self._read(offset + len(have), rest) if rest else b"")
        if len(data) < length:
            raise TruncatedMediaError(TRUNCATED)
        return data

    def _read(self, offset: int, length: int) -> bytes:
        self.reads += 1
        data = bytes(self.reader.read(offset, length))
        return data[:length]


def u8(b: bytes, o: int) -> int:
    return b[o]


def u16(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">H", b, o)[0])


def u32(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">I", b, o)[0])


def i32(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">i", b, o)[0])


def u64(b: bytes, o: int) -> int:
    return int(struct.unpack_from(">Q", b, o)[0])


def start(reader: RangeReader) -> Source:
    size = int(reader.size)
    if size <= 0:
        raise TruncatedMediaError("The file is empty. Upload it again.")
    return Source(reader, size)


def unsupported_message(head: bytes, kind: str) -> str:
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
