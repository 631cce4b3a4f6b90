"""OpenAPI response declarations shared by every route set, so the document shows the real error shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request (malformed JSON, or a parameter outside what is allowed)",
    401: "Missing or invalid bearer token",
    403: "The bearer token was refused by the authorizer",
    404: "No such resource for this tenant (other tenants' ids included)",
    409: "The resource is not in a state that allows this",
    413: "Request body too large",
    415: "Unsupported content type",
    422: "Invalid fields, each with its path",
    429: (
        "Too many requests: the tenant's allowance for this kind of request this minute (code rate_limited), "
        "or TikTok's per-account call limit (code tiktok_rate_limit); retry after the Retry-After header's "
        "seconds"
    ),
    502: "TikTok (or another dependency) failed; nothing was changed",
    503: "Storage is unavailable for a moment; nothing was changed, retry",
}


class GatewayMessage(BaseModel):
    """What API Gateway itself answers before any function runs (its authorizer's 401 and 403)."""

    message: str = Field(description='"Unauthorized" (no bearer token) or "Forbidden" (token refused).')


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_input.")
    message: str = Field(description="What went wrong and what to do, for people.")
    details: dict[str, Any] | None = Field(
        None,
        description="Structured extras: `fields` (path, type, message) for 422, TikTok's code and log_id.",
    )


class ErrorResponse(BaseModel):
    """Every error answer of the API."""

    error: ErrorDetail


def error_responses(*codes: int, **descriptions: str) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries for error statuses (description overridable as `e404="..."`)."""
    return {
        code: {
            "description": descriptions.get(f"e{code}", ERROR_DESCRIPTIONS.get(code, "Error")),
            "content": {"application/json": {"model": ErrorResponse}},
        }
        for code in codes
    }


def ok_response(model: type[BaseModel], description: str, status: int = 200) -> dict[int, dict[str, Any]]:
    """An OpenAPI `responses` entry for a JSON success answer."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def empty_response(status: int, description: str) -> dict[int, dict[str, Any]]:
    """An OpenAPI `responses` entry for an answer without a body (204, 302)."""
    return {status: {"description": description, "content": {}}}
