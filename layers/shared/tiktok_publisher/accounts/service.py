"""Accounts of a tenant: list, detail, disconnect, and the creator-info post-form contract. Logic only:
the account repository, the TikTok client and the token source are ports passed in by the caller.

Access tokens come from the Tokens port (refresh.TokenRefresher in production): the one refresh code path that
the scheduled sweep uses too (DESIGN.md §6), with its lease and its re-read after a lost race; a token TikTok
refuses early (`access_token_invalid`) is replaced by one forced refresh and the call made once more.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tiktok_publisher.domain.accounts import Account, AccountStatus, require_active
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.pacing import CallLimitReached
from tiktok_publisher.domain.post_form import post_form_contract
from tiktok_publisher.domain.taxonomy import creator_info_refused
from tiktok_publisher.domain.tiktok import CreatorInfo
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import Accounts, CallPacer, TikTok, Tokens

# OAuth answers to a revoke meaning "this token is already dead": the grant is gone, which is what a
# disconnect wants. Anything else (our credentials refused, TikTok down) leaves the grant alive.
DEAD_TOKEN_CODES = frozenset({"invalid_grant", "invalid_request", "access_token_invalid", "invalid_token"})


class AccountView(BaseModel):
    """An account as the API shows it: never a token, ciphertext or version."""

    open_id: str
    display_name: str | None = None
    username: str | None = None
    avatar_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    status: Literal["active", "needs_reconnect", "revoked"]
    access_expires_at: datetime | None = Field(None, description="When the access token expires (UTC).")
    refresh_expires_at: datetime | None = Field(None, description="When the grant itself expires (UTC).")
    connected_at: str | None = Field(None, description="First connection, ISO-8601 UTC.")
    last_error: str | None = None


class AccountList(BaseModel):
    accounts: list[AccountView]


class CreatorForm(BaseModel):
    """Fresh creator_info and what the post form must offer (TIKTOK-API.md §8)."""

    open_id: str
    creator: dict[str, Any]
    form: dict[str, Any]


def _iso(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch else None


def view(account: Account) -> AccountView:
    """The public view of an account."""
    return AccountView(
        open_id=account.open_id,
        display_name=account.display_name,
        username=account.username,
        avatar_url=account.avatar_url,
        scopes=list(account.scopes or []),
        status=account.status,  # type: ignore[arg-type]
        access_expires_at=_iso(account.access_expires_at),
        refresh_expires_at=_iso(account.refresh_expires_at),
        connected_at=account.connected_at or None,
        last_error=account.last_error,
    )


def list_accounts(tenant_id: str, *, accounts: Accounts) -> AccountList:
    """Every account of the tenant, in a stable order."""
    items = sorted(accounts.list(tenant_id), key=lambda a: (a.connected_at or "", a.open_id))
    return AccountList(accounts=[view(a) for a in items])


def get_account(tenant_id: str, open_id: str, *, accounts: Accounts) -> AccountView:
    """One account of the tenant; NotFound for unknown ids and other tenants' ids alike."""
    return view(accounts.get(tenant_id, open_id))


def _tiktok_details(exc: TikTokError) -> dict[str, Any]:
    return {"tiktok_code": exc.code, "log_id": exc.log_id}


def disconnect(
    tenant_id: str,
    open_id: str,
    *,
    accounts: Accounts,
    client: TikTok,
    tokens: Tokens,
    now: int,
) -> None:
    """Revoke the grant at TikTok, then forget the tokens. The account row (and its posts) stays, `revoked`.

    A token TikTok already considers dead still disconnects; TikTok being unreachable changes nothing, so the
    caller can retry and the grant is not left alive behind our back. Disconnecting twice is a no-op.

    TikTok's grant belongs to the app and the user, not to our tenant: revoking it would end every other
    tenant's connection of that user too. While another tenant has the user actively connected, this tenant's
    tokens are forgotten and the grant is left to the others (as a data deletion does, accounts/erasure.py).
    """
    account = accounts.get(tenant_id, open_id)
    access = token_to_revoke(tenant_id, open_id, accounts=accounts, tokens=tokens, now=now)
    if access is None and account.status == "revoked":
        return
    if access is not None and shared_elsewhere(tenant_id, open_id, accounts=accounts):
        logger.info("disconnect: another tenant still uses this grant; not revoked at TikTok")
        access = None
    if access is not None:
        try:
            client.revoke(access)
        except OAuthError as exc:
            if exc.code not in DEAD_TOKEN_CODES:
                raise UpstreamError(
                    "TikTok refused to revoke the authorization; the account is still connected.",
                    details=_tiktok_details(exc),
                ) from None
            logger.info("revoke: token already dead", extra={"tiktok_code": exc.code, "log_id": exc.log_id})
        except TikTokError as exc:
            raise UpstreamError(
                "TikTok could not be reached to revoke the authorization; nothing was changed. Try again.",
                details=_tiktok_details(exc),
            ) from None
    accounts.mark_revoked(tenant_id, open_id, "disconnected")  # drops both tokens, keeps the row
    logger.info("tiktok account disconnected", extra={"open_id": open_id})


def shared_elsewhere(tenant_id: str, open_id: str, *, accounts: Accounts) -> bool:
    """Does another tenant have this TikTok user actively connected (the same grant at TikTok)?"""
    return any(
        a.tenant_id != tenant_id and a.status == AccountStatus.ACTIVE
        for a in accounts.find_by_open_id(open_id)
    )


def token_to_revoke(
    tenant_id: str, open_id: str, *, accounts: Accounts, tokens: Tokens, now: int
) -> str | None:
    """An access token that can still revoke the grant, or None when nothing alive is left."""
    try:
        return tokens.ensure_fresh_token(tenant_id, open_id, now=now)
    except NotFound:
        return None  # tokens already gone: disconnected before
    except AccountNeedsReconnect:
        pass  # the grant is dead, or the account is no longer active (the refresher leaves those alone)
    try:
        creds = accounts.get_credentials(tenant_id, open_id)
    except NotFound:
        return None
    # An account marked needs_reconnect may still hold an unexpired access token: revoke with it.
    return creds.access_token if creds.account.access_expires_at > now else None


def creator_form(
    tenant_id: str,
    open_id: str,
    *,
    accounts: Accounts,
    client: TikTok,
    tokens: Tokens,
    pacer: CallPacer,
    audited: bool,
    media_type: Literal["video", "photo"],
    now: int,
) -> CreatorForm:
    """Fresh creator_info for the account plus the post-form contract built from it. The call takes a slot
    of TikTok's per-token limit shared with the workers (CallLimitReached, 429, when none is free)."""
    require_active(accounts.get(tenant_id, open_id))
    used: list[str] = []  # the token of the answer that stands (the retry's, after a forced refresh)

    def ask(access: str) -> CreatorInfo:
        # Every call to TikTok takes a slot, the retry after a forced refresh too.
        wait = pacer.reserve(tenant_id, open_id, "creator_info", now=now)
        if wait > 0:
            raise CallLimitReached("creator_info", wait)
        used.append(access)
        return client.creator_info(access)

    try:
        # A token TikTok refuses before its stated expiry is replaced once (forced refresh) and asked again.
        info = tokens.call_with_token(tenant_id, open_id, ask, now=now)
    except TikTokError as exc:
        raise creator_info_refused(
            exc,
            mark_token_dead=lambda refused: tokens.mark_token_dead(
                tenant_id, open_id, used[-1], code=refused.code, log_id=refused.log_id, now=now
            ),
        ) from None
    contract = post_form_contract(info, audited=audited, media_type=media_type)
    return CreatorForm(open_id=open_id, creator=info.model_dump(mode="json"), form=contract)
