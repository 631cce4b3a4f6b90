"""Response shapes: the v2 envelope, the flat OAuth error, and the log_id every answer carries."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from flask import Response, g


def new_log_id(now: float) -> str:
    """TikTok-style log id: UTC timestamp then random hex (e.g. 20240101120000A1B2...)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + secrets.token_hex(10).upper()


def current_log_id() -> str:
    """The log id of the request being served."""
    return str(g.get("log_id", ""))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize with the stdlib so big ints stay raw JSON numbers and key order is kept."""
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


class ApiError(Exception):
    """A v2 API error: answered as {"error": {"code", "message", "log_id"}} with `status`."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class OAuthError(Exception):
    """A Login Kit error: answered flat as {"error", "error_description", "log_id"}."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def v2_ok(data: dict[str, Any]) -> Response:
    """Success envelope."""
    return json_response({"data": data, "error": {"code": "ok", "message": "", "log_id": current_log_id()}})


def v2_error(code: str, message: str, status: int) -> Response:
    """Error envelope; `data` is left out, as real servers often do."""
    return json_response({"error": {"code": code, "message": message, "log_id": current_log_id()}}, status)


def oauth_error(error: str, description: str, status: int) -> Response:
    """Flat OAuth error body."""
    body = {"error": error, "error_description": description, "log_id": current_log_id()}
    return json_response(body, status)
