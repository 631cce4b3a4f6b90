"""Light media checks on received bytes, producing TikTok's fail_reason codes.

Only headers are read (never the whole file), so a 1 GiB upload is checked in microseconds.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
MAX_PHOTO_BYTES = 20 * 1024 * 1024
_MAX_BOXES = 256


def check_video(path: str, max_duration_sec: int) -> str | None:
    """fail_reason for a received video, or None when it passes."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head.startswith(EBML_MAGIC):
            return None
        if len(head) < 8 or head[4:8] != b"ftyp":
            return "file_format_check_failed"
        duration = mp4_duration(fh, os.fstat(fh.fileno()).st_size)
    if duration is not None and duration > max_duration_sec:
        return "duration_check_failed"
    return None


def check_photo(path: str) -> str | None:
    """fail_reason for a received photo (JPEG or WebP, at most 20 MB), or None."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    is_jpeg = head.startswith(b"\xff\xd8\xff")
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if not (is_jpeg or is_webp):
        return "file_format_check_failed"
    if os.path.getsize(path) > MAX_PHOTO_BYTES:
        return "picture_size_check_failed"
    return None


def video_duration(path: str) -> float | None:
    """Duration in seconds of an MP4/MOV file (None for WebM or when it cannot be read)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 8 or head[4:8] != b"ftyp":
            return None
        return mp4_duration(fh, os.fstat(fh.fileno()).st_size)


def _boxes(fh: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload offset, box end) of the ISO-BMFF boxes between start and end."""
    found: list[tuple[bytes, int, int]] = []
    offset = start
    while offset + 8 <= end and len(found) < _MAX_BOXES:
        fh.seek(offset)
        header = fh.read(16)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header[:8])
        payload = offset + 8
        if size == 1 and len(header) == 16:
            size = struct.unpack(">Q", header[8:16])[0]
            payload = offset + 16
        elif size == 0:
            size = end - offset
        if size < 8:
            break
        found.append((kind, payload, min(offset + size, end)))
        offset += size
    return found


def mp4_duration(fh: BinaryIO, file_size: int) -> float | None:
    """Duration in seconds from moov/mvhd, or None when it cannot be found."""
    for kind, payload, end in _boxes(fh, 0, file_size):
        if kind != b"moov":
            continue
        for child, child_payload, _ in _boxes(fh, payload, end):
            if child != b"mvhd":
                continue
            fh.seek(child_payload)
            data = fh.read(32)
            if not data:
                return None
            if data[0] == 1 and len(data) >= 32:
                timescale, duration = struct.unpack(">IQ", data[20:32])
            elif len(data) >= 20:
                timescale, duration = struct.unpack(">II", data[12:20])
            else:
                return None
            return duration / timescale if timescale else None
    return None


def fake_mp4(size: int, duration_sec: int = 10) -> bytes:
    """Bytes that pass the emulator's video checks: ftyp, moov/mvhd with a duration, mdat padding."""
    ftyp = struct.pack(">I4s4sI8s", 24, b"ftyp", b"isom", 512, b"isomiso2")
    mvhd_payload = struct.pack(">B3xIIII", 0, 0, 0, 1000, duration_sec * 1000) + bytes(80)
    mvhd = struct.pack(">I4s", 8 + len(mvhd_payload), b"mvhd") + mvhd_payload
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    head = ftyp + moov
    if size < len(head) + 8:
        raise ValueError(f"a fake mp4 needs at least {len(head) + 8} bytes")
    mdat_len = size - len(head)
    return head + struct.pack(">I4s", mdat_len, b"mdat") + bytes(mdat_len - 8)
