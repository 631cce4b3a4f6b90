"""The one place that turns exceptions into HTTP answers (JSON for the API, HTML for browser pages)."""

from __future__ import annotations

import html
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from tiktok_publisher.domain.errors import DomainError
from tiktok_publisher.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

# Context flag a browser-facing route sets so its errors render as a page instead of JSON.
HTML_ERRORS = "html_errors"

# Every response carries these: nothing here should be cached by a shared cache or leak a Referer
# (the callback URL holds a one-time code until it is consumed).
BASE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
HTML_HEADERS = {
    **BASE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON error shape of every route: {"error": {"code", "message", "details"?}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def json_error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """A JSON error response."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, details),
        headers=dict(BASE_HEADERS),
    )


def html_page(status: int, title: str, message: str) -> Response:
    """A small self-contained HTML page: no script, no meta refresh, no external resource, no Location."""
    body = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}"
        "</style>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>\n"
    )
    return Response(
        status_code=status, content_type=content_types.TEXT_HTML, body=body, headers=dict(HTML_HEADERS)
    )


def _wants_html(app: APIGatewayHttpResolver) -> bool:
    return bool(app.context.get(HTML_ERRORS))


def _field_path(loc: Any) -> str:
    return ".".join(str(part) for part in loc) if isinstance(loc, (list, tuple)) else str(loc)


def validation_response(exc: RequestValidationError) -> Response:
    """422 with one entry per invalid field (path, type, message), or 400 when the body is not JSON at all."""
    errors = exc.errors()
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        position = malformed[0].get("loc", ("body", "?"))[-1]
        reason = (malformed[0].get("ctx") or {}).get("error", "invalid JSON")
        return json_error(
            HTTPStatus.BAD_REQUEST,
            "malformed_json",
            f"The request body is not valid JSON ({reason} at character {position}).",
        )
    # The input value is left out on purpose: it may be a token someone pasted in the wrong field.
    fields = [
        {"path": _field_path(e.get("loc", ())), "type": e.get("type", "invalid"), "message": e.get("msg", "")}
        for e in errors
    ]
    return json_error(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid_input",
        "The request has invalid fields: " + ", ".join(f["path"] for f in fields) + ".",
        {"fields": fields},
    )


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Map DomainError subclasses (by their status_code/code), validation errors, 404s and the unexpected."""

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        level = logger.warning if exc.status_code >= 500 else logger.info
        level("request refused", extra={"error_code": exc.code, "status": exc.status_code})
        if _wants_html(app):
            return html_page(exc.status_code, _page_title(exc.status_code), exc.message)
        response = json_error(exc.status_code, exc.code, exc.message, exc.details or None)
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        return validation_response(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(_exc: RequestUnsupportedContentType) -> Response:
        return json_error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Send the body as application/json."
        )

    @app.not_found
    def _not_found(_exc: NotFoundError) -> Response:
        return json_error(HTTPStatus.NOT_FOUND, "route_not_found", "No such route.")

    @app.exception_handler(ServiceError)
    def _service(exc: ServiceError) -> Response:
        message = exc.msg if isinstance(exc.msg, str) else HTTPStatus(exc.status_code).phrase
        return json_error(
            exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"), message
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The class name only: messages of SDK errors can quote request parameters.
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
        if _wants_html(app):
            return html_page(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The account was not connected. Please go back to the app and try again.",
            )
        return json_error(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Internal error. Try again later."
        )


def _page_title(status: int) -> str:
    if status == HTTPStatus.BAD_REQUEST:
        return "This link cannot be used"
    return "Something went wrong"
