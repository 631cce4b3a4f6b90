"""FILE_UPLOAD: the chunk arithmetic checked at init, and the PUT endpoint that streams chunks to disk."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from .config import EmulatorConfig
from .envelope import current_log_id, json_response
from .faults import drain_body, fault_response, rewritten
from .state import Upload

if TYPE_CHECKING:
    from .emulator import Emulator

MIN_CHUNK = 5 * 1024 * 1024  # 5 MB read as MiB: the stricter reading of the docs
MAX_CHUNK = 64_000_000  # 64 MB read as decimal: the stricter reading of the docs
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024**3
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_PIECE = 1 << 20
NEED_LENGTH = "Content-Length is required (chunked transfer encoding is not accepted)."


def chunk_plan_error(video_size: object, chunk_size: object, total_chunk_count: object) -> str | None:
    """Why init's (video_size, chunk_size, total_chunk_count) breaks the chunk rules, or None."""
    values = (video_size, chunk_size, total_chunk_count)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "video_size, chunk_size and total_chunk_count must be integers."
    assert isinstance(video_size, int)
    assert isinstance(chunk_size, int)
    assert isinstance(total_chunk_count, int)
    if video_size <= 0 or chunk_size <= 0 or total_chunk_count <= 0:
        return "video_size, chunk_size and total_chunk_count must be positive."
    if video_size > MAX_VIDEO_BYTES:
        return "video_size exceeds 4 GB."
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or total_chunk_count != 1:
            return "a video under 5 MB must be uploaded as one chunk with chunk_size equal to video_size."
        return None
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return f"chunk_size must be between {MIN_CHUNK} and {MAX_CHUNK} bytes."
    if chunk_size > video_size:
        return "chunk_size must not exceed video_size."
    expected = video_size // chunk_size
    if total_chunk_count != expected:
        return f"total_chunk_count must be floor(video_size / chunk_size) = {expected}."
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return f"total_chunk_count must be between 1 and {MAX_CHUNKS}."
    if video_size - (total_chunk_count - 1) * chunk_size > MAX_LAST_CHUNK:
        return f"the last chunk must not exceed {MAX_LAST_CHUNK} bytes."
    return None


def progress_header(upload: Upload) -> str:
    """Content-Range of what has been received; `bytes */TOTAL` before the first byte (RFC 9110)."""
    if upload.received_bytes == 0:
        return f"bytes */{upload.video_size}"
    return f"bytes 0-{upload.received_bytes - 1}/{upload.video_size}"


def _answer(status: int, upload: Upload | None, code: str = "", message: str = "") -> Response:
    headers = {"x-tt-logid": current_log_id()}
    if upload is not None:
        headers["Content-Range"] = progress_header(upload)
    if status in (200, 201, 206) and not code:
        return Response(b"", status=status, headers=headers, mimetype="text/plain")
    body = {"error": {"code": code, "message": message, "log_id": current_log_id()}}
    return json_response(body, status, headers)


def _refuse(status: int, upload: Upload | None, code: str, message: str) -> Response:
    drain_body()
    return _answer(status, upload, code, message)


def _receive(upload: Upload, first: int, length: int) -> bool:
    """Stream `length` body bytes to the file at `first`; False (and nothing kept) if the body ends short."""
    hasher = upload.hasher.copy()
    stream = request.stream
    remaining = length
    with open(upload.path, "r+b") as fh:
        fh.seek(first)
        while remaining > 0:
            piece = stream.read(min(remaining, _PIECE))
            if not piece:
                break
            fh.write(piece)
            hasher.update(piece)
            remaining -= len(piece)
        if remaining:
            fh.truncate(first)
            return False
    upload.hasher = hasher
    return True


def register(app: Flask, emu: Emulator) -> None:
    """Add the chunk PUT route (the path the opaque upload_url points at)."""

    @app.put("/upload/video/")
    def put_chunk() -> Response:
        with emu.store.lock:
            upload = emu.store.uploads.get(request.args.get("upload_id", ""))
        if upload is None or upload.upload_token != request.args.get("upload_token"):
            return _refuse(404, None, "upload_not_found", "No upload matches this upload_url.")
        if emu.clock.now() >= upload.expires_at:
            return _refuse(
                403, upload, "upload_url_expired", "The upload_url has expired (valid for 1 hour)."
            )
        fault = emu.faults.take("chunk")
        if fault is not None:
            response = fault_response(fault, "chunk", {"Content-Range": progress_header(upload)})
            if response is not None:
                return response
        return rewritten(fault, _checked_chunk(emu, upload))


def _checked_chunk(emu: Emulator, upload: Upload) -> Response:
    """The documented checks of a chunk PUT, then the chunk stored (or refused)."""
    content_type = (request.mimetype or "").lower()
    if content_type not in VIDEO_TYPES:
        return _refuse(
            400, upload, "invalid_file_upload", "Content-Type must be video/mp4, quicktime or webm."
        )
    length = request.content_length
    match = _RANGE.match(request.headers.get("Content-Range", "").strip())
    if length is None:
        return _refuse(400, upload, "invalid_file_upload", NEED_LENGTH)
    if match is None:
        return _refuse(400, upload, "invalid_file_upload", "Content-Range must be bytes FIRST-LAST/TOTAL.")
    first, last, total = (int(g) for g in match.groups())
    if total != upload.video_size or last < first or last >= total:
        return _refuse(400, upload, "invalid_file_upload", "Content-Range does not fit video_size.")
    if last - first + 1 != length:
        return _refuse(400, upload, "invalid_file_upload", "Content-Length does not match Content-Range.")
    with upload.lock:
        return _store_chunk(emu, upload, first, last, length, content_type)


def _store_chunk(
    emu: Emulator, upload: Upload, first: int, last: int, length: int, content_type: str
) -> Response:
    if upload.complete:
        return _refuse(416, upload, "range_not_satisfiable", "All chunks were already received.")
    expected_first, expected_last = upload.expected_range()
    if first != expected_first:
        return _refuse(
            416, upload, "range_not_satisfiable", f"Expected the chunk starting at {expected_first}."
        )
    if last != expected_last:
        return _refuse(400, upload, "invalid_file_upload", f"This chunk must end at byte {expected_last}.")
    if not _receive(upload, first, length):
        return _answer(400, upload, "invalid_file_upload", "The body is shorter than Content-Length.")
    now = emu.clock.now()
    with emu.store.lock:
        upload.chunks_received += 1
        upload.received_bytes = last + 1
        upload.content_type = upload.content_type or content_type
        post = emu.store.posts.get(upload.publish_id)
        if post is not None:
            post.uploaded_bytes = upload.received_bytes
            if upload.complete:
                post.sha256 = upload.hasher.hexdigest()
                post.transfer_done_at = now
    return _answer(201 if upload.complete else 206, upload)


CHUNK_SIZE_INVALID = "The chunk size is invalid"


def chunk_policy_error(
    config: EmulatorConfig, video_size: object, chunk_size: object, total_chunk_count: object
) -> str | None:
    """Refusals beyond the documented arithmetic (which chunk_plan_error has already passed)."""
    assert isinstance(video_size, int)
    if total_chunk_count == 1:
        if video_size > config.single_chunk_max_bytes:
            return (
                f"{CHUNK_SIZE_INVALID}: a single chunk carries at most {config.single_chunk_max_bytes} "
                "bytes; upload larger videos in several chunks."
            )
        if config.single_chunk_must_equal_size and chunk_size != video_size:
            return CHUNK_SIZE_INVALID
    elif config.refuse_multi_chunk_init:
        # Seen from 2026-08 (post-for-me#327): every multi-chunk init refused with exactly this text.
        return CHUNK_SIZE_INVALID
    return None


def create_upload_file(path: str) -> None:
    """An empty file chunks are written into."""
    with open(path, "wb"):
        pass
    os.chmod(path, 0o600)
