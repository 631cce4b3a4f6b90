"""Signed OAuth state: `<state_id>.<expires_at>.<mac>` (pure, no I/O).

The state travels through the user's browser and TikTok, so it is authenticated with HMAC-SHA256 under a
key of its own (not the JWT secret). The MAC also covers the stage, so a state minted by another stage
fails here even if someone reused a key across stages. The server-side session (OAuthSessions) is what
makes it single-use; the signature only lets us refuse forged or stale states before touching the table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from tiktok_publisher.domain.errors import DomainError

STATE_TTL_SECONDS = 600
_MAC_DOMAIN = "tiktok-publisher/oauth-state/v1"
# 24 random bytes -> 32 url-safe characters, 192 bits: far above the 128 bits an unguessable id needs.
_STATE_ID_BYTES = 24
_STATE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
_EXPIRES_RE = re.compile(r"^[0-9]{1,12}$")
_MAC_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MAX_TOKEN_LEN = 128


class InvalidState(DomainError):
    """The callback's state is missing, malformed, forged, expired or already used.

    `reason` is for logs and metrics only; the caller always sees the same page, so a prober learns nothing.
    """

    status_code = 400
    code = "invalid_state"

    def __init__(self, reason: str) -> None:
        super().__init__("This sign-in link is invalid or has expired. Start connecting again from the app.")
        self.reason = reason


@dataclass(frozen=True)
class SignedState:
    state_id: str
    expires_at: int
    token: str


def new_state_id() -> str:
    """A fresh random state id (192 bits, URL-safe)."""
    return secrets.token_urlsafe(_STATE_ID_BYTES)


def _mac(state_id: str, expires_at: int, *, key: bytes, stage: str) -> str:
    message = f"{_MAC_DOMAIN}|{stage}|{state_id}|{expires_at}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_state(state_id: str, expires_at: int, *, key: bytes, stage: str) -> SignedState:
    """Bind state_id and its expiry (epoch seconds) under `key`; returns the token to send to TikTok."""
    if not _STATE_ID_RE.match(state_id):
        raise ValueError("state_id must come from new_state_id()")
    if not key:
        raise ValueError("state signing key is empty")
    token = f"{state_id}.{expires_at}.{_mac(state_id, expires_at, key=key, stage=stage)}"
    return SignedState(state_id=state_id, expires_at=expires_at, token=token)


def verify_state(token: str | None, *, key: bytes, stage: str, now: int) -> str:
    """Return the state_id of a genuine, unexpired token; raise InvalidState otherwise.

    The signature is checked (in constant time) before the expiry, so nothing about an unsigned token is
    trusted, not even its claimed expiry.
    """
    if not token or len(token) > _MAX_TOKEN_LEN:
        raise InvalidState("missing" if not token else "malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidState("malformed")
    state_id, expires_raw, mac = parts
    if not (_STATE_ID_RE.match(state_id) and _EXPIRES_RE.match(expires_raw) and _MAC_RE.match(mac)):
        raise InvalidState("malformed")
    expires_at = int(expires_raw)
    expected = _mac(state_id, expires_at, key=key, stage=stage)
    if not hmac.compare_digest(expected.encode("ascii"), mac.encode("ascii")):
        raise InvalidState("bad_signature")
    if now >= expires_at:
        raise InvalidState("expired")
    return state_id
