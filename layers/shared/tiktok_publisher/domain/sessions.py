"""A pending OAuth connect (the OAuthSessions table's row), consumed exactly once by the callback. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from tiktok_publisher.domain.errors import NotFound


class StateAlreadyUsed(NotFound):
    """The session is gone: its callback already ran (or TTL removed it). A NotFound, so callers that only
    care about "no usable session" need not tell the two apart."""

    code = "state_already_used"


@dataclass(frozen=True, slots=True)
class OAuthSession:
    """A pending connect: who started it, the PKCE verifier, where to send the user back."""

    state_id: str = field(repr=False)
    tenant_id: str
    user_id: str
    code_verifier: str | None = field(default=None, repr=False)
    return_to: str = ""
    scopes: list[str] = field(default_factory=list)
    created_at: int = 0
    expires_at: int = 0
