"""Is an init's upload_url one we may PUT the user's bytes to? Pure (TIKTOK-API.md §4-§5).

The upload_url is opaque and its host varies (open-upload.tiktokapis.com, regional upload hosts), so it is
never built, only checked: https, on TikTok's API domain (a dot-anchored subdomain of tiktokapis.com), the
default port, no credentials in it. Peers check the same; without it an init answer from anything posing as
TikTok could make the worker stream a user's video wherever it liked.

The local emulator serves uploads from its own http base: that origin is accepted only when local
configuration lists it (TIKTOK_UPLOAD_ORIGINS), compared as a whole origin, never as a prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

TIKTOK_UPLOAD_DOMAIN = "tiktokapis.com"


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute URL without credentials; None when it is not one."""
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("https", "http") or not host or "@" in parts.netloc:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


def upload_url_trusted(url: str, extra_origins: Iterable[str] = ()) -> bool:
    """True when `url` is https on TikTok's upload hosts, or on one of `extra_origins` (local config)."""
    origin = _origin(url)
    if origin is None:
        return False
    scheme, host, port = origin
    if scheme == "https" and port == 443 and host.endswith("." + TIKTOK_UPLOAD_DOMAIN):
        return True
    return any(_origin(extra) == origin for extra in extra_origins if extra)
