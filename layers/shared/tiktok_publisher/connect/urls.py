"""URLs of the connect flow (pure): TikTok's authorize URL, the return_to allow-list, result redirects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tiktok_publisher.domain.errors import DomainError

AUTHORIZE_PATH = "/v2/auth/authorize/"
MAX_RETURN_TO_LEN = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ReturnToNotAllowed(DomainError):
    """return_to is not a URL on one of the configured origins (an open redirect otherwise)."""

    status_code = 400
    code = "return_to_not_allowed"


def authorize_url(
    auth_base: str,
    *,
    client_key: str,
    scopes: Sequence[str],
    redirect_uri: str,
    state: str,
    code_challenge: str,
    code_challenge_method: str = "S256",
) -> str:
    """TikTok's consent page URL (TIKTOK-API.md §1): client_key, comma-separated scope, code, and always
    PKCE (TikTok refuses an authorize request without a challenge)."""
    if not code_challenge:
        raise ValueError("an authorize URL always carries a PKCE code_challenge")
    params = [
        ("client_key", client_key),
        ("scope", ",".join(scopes)),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("response_type", "code"),
        ("code_challenge", code_challenge),
        ("code_challenge_method", code_challenge_method),
    ]
    return f"{auth_base.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(params)}"


def origin_of(url: str) -> str | None:
    """Normalised `scheme://host[:port]` of an absolute http(s) URL, or None when it has no clear origin."""
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\\" for ch in url):
        return None  # browsers "fix" these in ways a parser here would not
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None  # userinfo is how `https://good.example@evil.example` fools naive checks
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def check_return_to(return_to: str | None, allowed_origins: Iterable[str]) -> str:
    """`return_to` unchanged when its origin is on the allow-list; ReturnToNotAllowed otherwise."""
    if not return_to:
        raise ReturnToNotAllowed("return_to is required: the URL to send the user back to after TikTok.")
    if len(return_to) > MAX_RETURN_TO_LEN:
        raise ReturnToNotAllowed(f"return_to is longer than {MAX_RETURN_TO_LEN} characters.")
    origin = origin_of(return_to)
    allowed = {o for o in (origin_of(a.strip()) for a in allowed_origins) if o}
    if origin is None or origin not in allowed:
        raise ReturnToNotAllowed(
            "return_to must be an absolute http(s) URL on an allowed origin (RETURN_TO_ALLOWED_ORIGINS).",
        )
    return return_to


def with_query(url: str, params: Mapping[str, str], *, drop: Iterable[str] = ()) -> str:
    """`url` with `params` added to its query: existing parameters kept, except same-named ones and `drop`."""
    parts = urlsplit(url)
    removed = set(params) | set(drop)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in removed]
    query = urlencode([*kept, *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
