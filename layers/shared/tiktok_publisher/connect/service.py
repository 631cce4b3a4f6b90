"""Connect a TikTok account: start (pending session + signed state + PKCE) and callback (consume, exchange,
check scopes, read the profile, store encrypted tokens, announce `Account Connected`). Logic only: every
I/O goes through the ports passed in (session repository, account repository, TikTok client, events)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tiktok_publisher.connect.pkce import PkceMode, new_pkce
from tiktok_publisher.connect.scopes import missing_scopes, parse_scopes, requested_scopes, user_fields
from tiktok_publisher.connect.state import (
    STATE_TTL_SECONDS,
    InvalidState,
    new_browser_nonce,
    new_state_id,
    sign_state,
    verify_state,
)
from tiktok_publisher.connect.urls import authorize_url, check_return_to, with_query
from tiktok_publisher.domain.accounts import Account
from tiktok_publisher.domain.errors import DomainError, NotFound
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.sessions import OAuthSession, StateAlreadyUsed
from tiktok_publisher.domain.tiktok import TokenSet
from tiktok_publisher.domain.tiktok_errors import (
    FINAL_OAUTH_CODES,
    OAuthError,
    TikTokError,
    TikTokTransportError,
)
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import Accounts, Events, OAuthSessions, TikTokAuth

# OAuth error values TikTok documents (TIKTOK-API.md §1) plus RFC 6749's two server-side ones. Only these
# are echoed back to return_to as `reason`; anything else becomes "oauth_error", so a crafted callback
# cannot make us reflect arbitrary text into the app.
OAUTH_ERROR_CODES = FINAL_OAUTH_CODES | {"server_error", "temporarily_unavailable"}


# The parameters our redirect sets; any of them already in return_to is dropped so the app cannot be told
# "connected" by a return_to that was crafted with `tiktok=connected&open_id=...` in it.
RESULT_PARAMS = ("tiktok", "reason", "missing", "open_id")


@dataclass(frozen=True)
class ConnectConfig:
    """What the connect flow needs from settings and secrets."""

    stage: str
    auth_base: str
    client_key: str
    redirect_uri: str
    allowed_origins: tuple[str, ...]
    pkce_mode: PkceMode
    state_key: bytes = field(repr=False)
    # The operator enabled metrics: the flow also asks for video.list and user.info.stats (optional grants).
    metrics_enabled: bool = False


@dataclass(frozen=True)
class StartResult:
    authorize_url: str = field(repr=False)
    state_id: str = field(repr=False)
    expires_at: int
    # Goes to the starting browser only, in the HttpOnly cookie (connect/cookie.py); the state binds its hash.
    browser_nonce: str = field(repr=False, default="")


@dataclass(frozen=True)
class CallbackResult:
    """Where to send the browser, and what happened (for logs and metrics; never a token or code)."""

    location: str
    outcome: Literal["connected", "error"]
    reason: str | None = None
    open_id: str | None = None


def start_connect(
    *,
    tenant_id: str,
    user_id: str,
    return_to: str | None,
    scopes: str | None,
    config: ConnectConfig,
    sessions: OAuthSessions,
    now: int,
) -> StartResult:
    """Validate return_to and scopes, store a pending session, and build TikTok's authorize URL."""
    target = check_return_to(return_to, config.allowed_origins)
    wanted = requested_scopes(scopes, metrics=config.metrics_enabled)
    pkce = new_pkce(config.pkce_mode)
    state_id = new_state_id()
    expires_at = now + STATE_TTL_SECONDS
    nonce = new_browser_nonce()
    signed = sign_state(state_id, expires_at, key=config.state_key, stage=config.stage, browser_nonce=nonce)
    sessions.create(
        OAuthSession(
            state_id=state_id,
            tenant_id=tenant_id,
            user_id=user_id,
            code_verifier=pkce.verifier,
            return_to=target,
            scopes=wanted,
            created_at=now,
            expires_at=expires_at,
        )
    )
    url = authorize_url(
        config.auth_base,
        client_key=config.client_key,
        scopes=wanted,
        redirect_uri=config.redirect_uri,
        state=signed.token,
        code_challenge=pkce.challenge,
        code_challenge_method=pkce.method,
    )
    logger.info("oauth session started", extra={"pkce_mode": config.pkce_mode, "scopes": wanted})
    return StartResult(authorize_url=url, state_id=state_id, expires_at=expires_at, browser_nonce=nonce)


def _consume(
    token: str | None, *, browser_nonce: str | None, config: ConnectConfig, sessions: OAuthSessions, now: int
) -> OAuthSession:
    state_id = verify_state(
        token, key=config.state_key, stage=config.stage, now=now, browser_nonce=browser_nonce
    )
    try:
        session = sessions.consume(state_id)
    except StateAlreadyUsed:
        raise InvalidState("replayed") from None
    except NotFound:
        # A genuine signature with no session: used already and expired by TTL, or minted by another
        # stage sharing the key. Same page either way.
        raise InvalidState("unknown_session") from None
    if session.expires_at <= now:
        raise InvalidState("expired")  # DynamoDB TTL deletes lazily; never trust the item's presence
    return session


def _fail(session: OAuthSession, reason: str, **extra: str) -> CallbackResult:
    location = with_query(
        session.return_to, {"tiktok": "error", "reason": reason, **extra}, drop=RESULT_PARAMS
    )
    logger.info("oauth connect failed", extra={"reason": reason, **extra})
    return CallbackResult(location=location, outcome="error", reason=reason)


def _revoke_quietly(client: TikTokAuth, tokens: TokenSet) -> None:
    # Best effort: we will not keep this grant, so do not leave it alive at TikTok either.
    try:
        client.revoke(tokens.access_token)
    except TikTokError as exc:
        logger.warning(
            "could not revoke an unused grant", extra={"tiktok_code": exc.code, "log_id": exc.log_id}
        )


def complete_connect(
    query: Mapping[str, str],
    *,
    browser_nonce: str | None,
    config: ConnectConfig,
    sessions: OAuthSessions,
    accounts: Accounts,
    client: TikTokAuth,
    events: Events,
    now: int,
) -> CallbackResult:
    """Handle TikTok's redirect. Raises InvalidState (no redirect possible) for a bad state, or one presented
    without the nonce of the browser that started it (`browser_nonce`, from the start's cookie); every other
    failure sends the user back to return_to with `tiktok=error&reason=...`, with nothing stored."""
    session = _consume(
        query.get("state"), browser_nonce=browser_nonce, config=config, sessions=sessions, now=now
    )

    error = query.get("error")
    if error:
        return _fail(session, error if error in OAUTH_ERROR_CODES else "oauth_error")
    code = query.get("code")
    if not code:
        return _fail(session, "missing_code")

    try:
        tokens = client.exchange_code(code, config.redirect_uri, session.code_verifier)
    except OAuthError as exc:
        logger.warning("token exchange refused", extra={"tiktok_code": exc.code, "log_id": exc.log_id})
        return _fail(session, exc.code if exc.code in OAUTH_ERROR_CODES else "oauth_error")
    except TikTokError as exc:
        # 5xx, timeout, garbage: the code may or may not have been spent; either way it cannot be retried
        # safely by us, and nothing has been stored.
        logger.warning("token exchange failed", extra={"tiktok_code": exc.code, "log_id": exc.log_id})
        return _fail(session, "tiktok_unavailable")

    granted = tokens.scopes or parse_scopes(query.get("scopes"))
    missing = missing_scopes(granted)
    if missing:
        _revoke_quietly(client, tokens)
        return _fail(session, "missing_scopes", missing=",".join(missing))

    try:
        profile = client.user_info(tokens.access_token, user_fields(granted))
    except TikTokError as exc:
        logger.warning("user info failed", extra={"tiktok_code": exc.code, "log_id": exc.log_id})
        _revoke_quietly(client, tokens)
        transient = isinstance(exc, TikTokTransportError) or exc.is_retryable
        return _fail(session, "tiktok_unavailable" if transient else "user_info_failed")
    if profile.open_id and profile.open_id != tokens.open_id:
        _revoke_quietly(client, tokens)
        return _fail(session, "account_mismatch")

    try:
        account = accounts.save_connection(session.tenant_id, tokens.open_id, profile, tokens, now=now)
    except DomainError as exc:  # storage or KMS down: the single write did not happen
        logger.warning("could not store the connection", extra={"error_code": exc.code})
        _revoke_quietly(client, tokens)
        return _fail(session, "internal_error")
    logger.info("tiktok account connected", extra={"open_id": account.open_id, "scopes": account.scopes})
    _announce_connected(events, account)
    location = with_query(
        session.return_to, {"tiktok": "connected", "open_id": account.open_id}, drop=RESULT_PARAMS
    )
    return CallbackResult(location=location, outcome="connected", open_id=account.open_id)


def connected_event_detail(account: Account) -> dict[str, Any]:
    """`Account Connected` detail (docs/events.md): who was connected, never a token. `reconnected` is true
    when the row existed before this connection (every write bumps `version`, the first one to 1)."""
    return {
        "open_id": account.open_id,
        "display_name": account.display_name,
        "username": account.username,
        "scopes": list(account.scopes),
        "reconnected": account.version > 1,
    }


def _announce_connected(events: Events, account: Account) -> None:
    # The account is stored and the user is on the way back connected: a bus hiccup must not turn that into
    # an error page, so a failed event is logged (and alarmed on through the log), not raised.
    try:
        events.publish(
            DetailType.ACCOUNT_CONNECTED, connected_event_detail(account), tenant_id=account.tenant_id
        )
    except Exception as exc:
        logger.error(
            "account connected: event not published",
            extra={"open_id": account.open_id, "error_class": type(exc).__name__},
        )
