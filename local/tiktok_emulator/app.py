"""The Flask application: one server answers the authorize page, the APIs, uploads and /_admin/."""

from __future__ import annotations

import os

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from . import admin, oauth, publish, status, uploads, users, videos
from .emulator import Emulator
from .envelope import ApiError, OAuthError, new_log_id, oauth_error, v2_error


def create_app(emu: Emulator) -> Flask:
    """Build the WSGI app around an emulator core."""
    app = Flask(__name__, root_path=os.path.dirname(os.path.abspath(__file__)))
    app.config["MAX_CONTENT_LENGTH"] = None  # chunks are streamed to disk, never buffered
    app.extensions["tiktok_emulator"] = emu

    @app.before_request
    def assign_log_id() -> None:
        g.log_id = new_log_id(emu.clock.now())

    @app.after_request
    def add_log_header(response: Response) -> Response:
        response.headers.setdefault("x-tt-logid", str(g.get("log_id", "")))
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return v2_error(exc.code, exc.message, exc.status)

    @app.errorhandler(OAuthError)
    def oauth_failure(exc: OAuthError) -> Response:
        return oauth_error(exc.error, exc.description, exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/v2/") and not request.path.startswith("/v2/auth/"):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code or 500, "invalid_params")
            return v2_error(code, exc.description or "", exc.code or 500)
        return exc

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return v2_error("internal_error", "Something went wrong in the emulator.", 500)

    for module in (oauth, users, publish, uploads, status, videos, admin):
        module.register(app, emu)

    @app.get("/")
    def index() -> Response:
        return Response(
            "TikTok emulator: see /_admin/state and local/tiktok_emulator/README.md\n", mimetype="text/plain"
        )

    return app
