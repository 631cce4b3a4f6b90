"""What every v2 endpoint does first: faults, bearer token, per-token rate limit, scope, JSON body."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import g, make_response, request

from .envelope import ApiError
from .faults import fault_response, rewritten
from .state import AccessToken

if TYPE_CHECKING:
    from .emulator import Emulator

F = TypeVar("F", bound=Callable[..., Any])


def guarded(emu: Emulator, endpoint: str) -> Callable[[F], F]:
    """Decorator: an armed fault for `endpoint` answers (or delays) before the real handler runs."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fault = emu.faults.take(endpoint)
            if fault is not None:
                response = fault_response(fault, endpoint)
                if response is not None:
                    return response
                if fault.mode == "status_value":
                    g.status_value = fault.value  # read by the status route
            return rewritten(fault, make_response(view(*args, **kwargs)))

        return cast(F, wrapper)

    return decorate


def bearer_token(emu: Emulator) -> AccessToken:
    """The live access token of the request, else access_token_invalid (401)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError("access_token_invalid", "The access token is missing or malformed.", 401)
    with emu.store.lock:
        token = emu.store.access_tokens.get(value.strip())
    if token is None:
        raise ApiError(
            "access_token_invalid", "The access token is invalid or not found in the request.", 401
        )
    if token.revoked:
        raise ApiError("access_token_invalid", "The access token has been revoked.", 401)
    now = emu.clock.now()
    if now >= token.expires_at:
        raise ApiError("access_token_invalid", "The access token has expired.", 401)
    if not token.live(now):
        # Ended before its stated expiry: TikTok gives no reason, just the generic answer.
        raise ApiError(
            "access_token_invalid", "The access token is invalid or not found in the request.", 401
        )
    return token


def authorize_call(emu: Emulator, bucket: str, scopes_any: tuple[str, ...]) -> AccessToken:
    """Token, then rate limit, then scope: the order real servers answer in."""
    token = bearer_token(emu)
    limit = emu.config.rate_limits.get(bucket)
    if limit is not None and not emu.limiter.hit(
        token.token, bucket, limit, emu.config.rate_limit_window_seconds
    ):
        raise ApiError("rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.", 429)
    if scopes_any and not set(scopes_any) & set(token.scopes):
        needed = " or ".join(scopes_any)
        raise ApiError(
            "scope_not_authorized", f"The user did not authorize the scope required: {needed}.", 401
        )
    return token


def json_body() -> dict[str, Any]:
    """The request's JSON object; JSON content type required."""
    mimetype = (request.mimetype or "").lower()
    if mimetype != "application/json":
        raise ApiError("invalid_params", "Content-Type must be application/json; charset=UTF-8.", 400)
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("invalid_params", "The request body is not valid JSON.", 400) from exc
    if not isinstance(body, dict):
        raise ApiError("invalid_params", "The request body must be a JSON object.", 400)
    return body


def bad(message: str) -> ApiError:
    """invalid_params (400), spelled as real servers spell it."""
    return ApiError("invalid_params", message, 400)


def opt_bool(obj: dict[str, Any], key: str) -> bool:
    """An optional boolean field."""
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise bad(f"{key} must be a boolean.")
    return value


def opt_int(obj: dict[str, Any], key: str, default: int | None = None) -> int | None:
    """An optional integer field (booleans are not integers here)."""
    value = obj.get(key, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise bad(f"{key} must be an integer.")
    return value


def need_str(obj: dict[str, Any], key: str) -> str:
    """A required non-empty string field."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise bad(f"{key} is required and must be a non-empty string.")
    return value


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit TikTok counts titles in."""
    return len(text.encode("utf-16-le")) // 2
