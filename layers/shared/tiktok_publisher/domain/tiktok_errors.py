"""Errors raised by the TikTok client. They carry TikTok's code, message, HTTP status and log_id (support asks
for it) and never a token: messages are scrubbed on the way in, and the client never chains the underlying
requests exception (its text can hold a URL with a capability in it)."""

from __future__ import annotations

from tiktok_publisher.domain.redaction import redact_text

# v2 codes (and OAuth errors) that mean "the same request may succeed later".
RETRYABLE_CODES = frozenset(
    {
        "rate_limit_exceeded",
        "internal_error",
        "internal",
        "server_error",
        "temporarily_unavailable",
        "transport",
        "bad_response",
    }
)


class TikTokError(Exception):
    """An error answer from TikTok (v2 envelope `error.code != "ok"`, or a non-JSON-able failure)."""

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        http_status: int | None = None,
        log_id: str | None = None,
    ) -> None:
        self.code = code or "unknown"
        self.message = redact_text(message or "")[:500]
        self.http_status = http_status
        self.log_id = log_id
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.code]
        if self.message:
            parts.append(f": {self.message}")
        if self.http_status is not None:
            parts.append(f" (http {self.http_status}")
            parts.append(f", log_id {self.log_id})" if self.log_id else ")")
        elif self.log_id:
            parts.append(f" (log_id {self.log_id})")
        return "".join(parts)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, http_status={self.http_status!r}, log_id={self.log_id!r})"

    @property
    def is_retryable(self) -> bool:
        """True when repeating the same request later may succeed (429, 5xx, internal errors)."""
        if self.code in RETRYABLE_CODES:
            return True
        return self.http_status is not None and (self.http_status == 429 or self.http_status >= 500)

    def to_dict(self) -> dict[str, object]:
        """Safe structured form for logs and stored fail reasons."""
        return {
            "tiktok_code": self.code,
            "message": self.message,
            "http_status": self.http_status,
            "log_id": self.log_id,
        }


class OAuthError(TikTokError):
    """An OAuth-endpoint error (`{"error", "error_description", "log_id"}`), e.g. invalid_grant."""

    @property
    def is_retryable(self) -> bool:
        # invalid_grant & co. are final; only the generic server-side codes may pass on a retry.
        return self.code in {"server_error", "temporarily_unavailable"} or (
            self.http_status is not None and self.http_status >= 500 and self.code not in FINAL_OAUTH_CODES
        )


# The OAuth error values TikTok documents (TIKTOK-API.md §1): none of them improves by retrying.
FINAL_OAUTH_CODES = frozenset(
    {
        "access_denied",
        "invalid_client",
        "invalid_grant",
        "invalid_request",
        "invalid_scope",
        "unauthorized_client",
        "unsupported_grant_type",
        "unsupported_response_type",
    }
)


class TikTokTransportError(TikTokError):
    """No usable answer: timeout, connection reset, or a body that is not the JSON we expect.

    code "transport" (nothing or a partial answer arrived) or "bad_response" (an answer we cannot parse).
    For non-idempotent calls (token exchange, init) the outcome is unknown: the request may have run.
    """

    @property
    def is_retryable(self) -> bool:
        return True


# TikTok refused the access token itself (TIKTOK-API.md §3, §6). Tokens have been seen to stop working
# before their stated expiry, so this calls for one forced refresh of that token and one retry, never for
# a reconnect by itself: only the refresh answering invalid_grant proves the grant dead.
TOKEN_REJECTED = "access_token_invalid"


def token_rejected(exc: BaseException) -> bool:
    """True when TikTok answered with its envelope that the access token is not (or no longer) valid."""
    return isinstance(exc, TikTokError) and not isinstance(exc, OAuthError) and exc.code == TOKEN_REJECTED
