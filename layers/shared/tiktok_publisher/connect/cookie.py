"""The connect flow's browser-binding cookie (pure): its name, its Set-Cookie value, and reading it back.

HttpOnly (no script reads it), SameSite=Lax (sent on TikTok's top-level redirect to the callback, not on
cross-site subrequests), Path=/, Max-Age = the state's lifetime, and Secure with the `__Host-` prefix (bound
to the exact API host, no Domain attribute possible) everywhere but the local stack on http://127.0.0.1, where
browsers refuse Secure cookies: only the stage `local` with an http callback gets the plain name, and the
callback then reads only that name, so production is never weakened.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

SECURE_NAME = "__Host-tiktok-connect"
LOCAL_NAME = "tiktok-connect"


def cookie_is_secure(stage: str, redirect_uri: str) -> bool:
    """Whether the cookie is Secure/__Host- (every stage but `local` over plain http)."""
    return not (stage == "local" and redirect_uri.lower().startswith("http://"))


def cookie_name(secure: bool) -> str:
    return SECURE_NAME if secure else LOCAL_NAME


def set_cookie(nonce: str, *, secure: bool, max_age: int) -> Cookie:
    """The cookie carrying `nonce` (max_age 0 clears it), as Powertools serializes it into Set-Cookie."""
    return Cookie(
        cookie_name(secure),
        nonce,
        path="/",
        secure=secure,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


def read_cookie(cookies: Iterable[str], *, secure: bool) -> str | None:
    """The nonce from API Gateway's `cookies` list ("name=value" entries), or None."""
    wanted = cookie_name(secure)
    for entry in cookies:
        name, _, value = entry.strip().partition("=")
        if name == wanted and value:
            return value
    return None
