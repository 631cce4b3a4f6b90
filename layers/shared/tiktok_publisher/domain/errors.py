"""Domain exceptions. The API maps each to one HTTP status in one place (api module)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error we expect and can explain to the caller. `message` is safe to show."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class NotFound(DomainError):
    """Also used for another tenant's ids: 404, never 403, so ids cannot be probed."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class UpstreamError(DomainError):
    """TikTok (or another dependency) failed in a way the caller cannot fix by changing the request."""

    status_code = 502
    code = "upstream_error"


class AccountNeedsReconnect(Conflict):
    """The account's grant is dead (or the account is not active): only the user can connect it again."""

    code = "account_needs_reconnect"


class CreatorCannotPost(Conflict):
    """TikTok says the creator cannot post right now (quota, anti-spam): the form must stop and say so."""

    code = "creator_cannot_post"
