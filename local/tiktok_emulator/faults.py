"""Fault injection: the next N calls to a named endpoint misbehave in a chosen way.

Besides failures (5xx, 429, 200-with-error, slow, reset), three modes play answers TikTok's docs do not
describe but a client must survive (issue 12):
- `status_as` (any endpoint): serve the call normally, then answer with `status` (e.g. a chunk PUT answered
  200 instead of 206/201);
- `status_value` (status endpoint): answer the status normally but with `data.status` = `value`, a value the
  docs do not list;
- `fail` (pseudo-endpoint `processing`): the next N posts whose media checks run end FAILED with
  fail_reason `code` (e.g. `internal`) instead of completing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from flask import Response, request

from .envelope import json_response, oauth_error, v2_error

ENDPOINTS = frozenset(
    {
        "token",
        "revoke",
        "user_info",
        "creator_info",
        "video_init",
        "inbox_init",
        "photo_init",
        "chunk",
        "status",
        "cancel",
        "video_query",
        "processing",  # not an HTTP endpoint: the state machine finishing a post (mode "fail" only)
    }
)
MODES = frozenset({"5xx", "429", "error200", "slow", "reset", "status_as", "status_value", "fail"})
OAUTH_ENDPOINTS = frozenset({"token", "revoke"})


@dataclass
class Fault:
    """One armed fault."""

    endpoint: str
    mode: str
    count: int = 1
    status: int = 500
    code: str = "internal_error"
    message: str = "injected fault"
    delay_ms: int = 0
    value: str = "PROCESSING_PUBLISH"  # status_value: the undocumented status to report

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Fault:
        """Validate an admin request."""
        fault = cls(**data)
        if fault.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {fault.endpoint!r}; one of {sorted(ENDPOINTS)}")
        if fault.mode not in MODES:
            raise ValueError(f"unknown mode {fault.mode!r}; one of {sorted(MODES)}")
        if fault.count < 1:
            raise ValueError("count must be >= 1")
        if fault.mode == "5xx" and not 500 <= fault.status <= 599:
            raise ValueError("5xx faults need a status between 500 and 599")
        if fault.mode == "status_as" and not 100 <= fault.status <= 599:
            raise ValueError("status_as faults need an HTTP status")
        if fault.mode == "status_value" and fault.endpoint != "status":
            raise ValueError("status_value applies to the status endpoint only")
        if (fault.mode == "fail") != (fault.endpoint == "processing"):
            raise ValueError("mode fail applies to the processing pseudo-endpoint, which takes no other mode")
        if fault.mode == "fail" and not fault.code.strip():
            raise ValueError("a fail fault needs the fail_reason as its code")
        return fault


class FaultRegistry:
    """Armed faults, consumed first-in first-out per endpoint."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Arm a fault."""
        with self._lock:
            self._faults.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """Consume one firing of the first fault armed for `endpoint`."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint == endpoint:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return Fault(**{**asdict(fault), "count": 1})
            return None

    def list(self) -> list[dict[str, Any]]:
        """Armed faults (admin view)."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        """Disarm all."""
        with self._lock:
            self._faults.clear()


def drain_body(limit: int = 256 * 1024 * 1024) -> None:
    """Read and drop the request body so the client sees our answer rather than a broken pipe."""
    length = request.content_length or 0
    if length > limit:
        return
    stream = request.stream
    while length > 0:
        piece = stream.read(min(length, 1 << 20))
        if not piece:
            return
        length -= len(piece)


def drop_connection() -> Response:
    """Close the socket without answering; werkzeug then fails to write and gives up quietly."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=500)


def rewritten(fault: Fault | None, response: Response) -> Response:
    """A normally served answer, with the status a `status_as` fault dictates."""
    if fault is not None and fault.mode == "status_as":
        response.status_code = fault.status
    return response


def fault_response(fault: Fault, endpoint: str, headers: dict[str, str] | None = None) -> Response | None:
    """The answer a fault dictates, or None to go on serving normally (after a delay for `slow`; rewritten
    afterwards for `status_as` and `status_value`)."""
    if fault.mode in ("status_as", "status_value", "fail"):
        return None
    if fault.mode == "slow":
        time.sleep(fault.delay_ms / 1000)
        return None
    if fault.mode == "reset":
        return drop_connection()
    drain_body()
    if fault.mode == "5xx":
        status, code = fault.status, "internal_error"
    elif fault.mode == "429":
        status, code = 429, "rate_limit_exceeded"
    else:
        status, code = 200, fault.code
    if endpoint in OAUTH_ENDPOINTS:
        oauth_code = {"internal_error": "server_error"}.get(code, code)
        response = oauth_error(oauth_code, fault.message, status)
    elif endpoint == "chunk":
        response = json_response({"error": {"code": code, "message": fault.message}}, status)
    else:
        response = v2_error(code, fault.message, status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
