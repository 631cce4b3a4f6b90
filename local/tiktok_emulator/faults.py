"""Fault injection: the next N calls to a named endpoint misbehave in a chosen way."""

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
    }
)
MODES = frozenset({"5xx", "429", "error200", "slow", "reset"})
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


def fault_response(fault: Fault, endpoint: str, headers: dict[str, str] | None = None) -> Response | None:
    """The answer a fault dictates, or None to go on serving normally (after a delay for `slow`)."""
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
