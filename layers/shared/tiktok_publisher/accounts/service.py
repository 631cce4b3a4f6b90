"""Accounts of a tenant: list, detail, disconnect, and the creator-info post-form contract. Logic only:
the account repository, the TikTok client and the token source are ports passed in by the caller.

Access tokens come from a TokenPort (refresh.TokenRefresher in production): the one refresh code path that
the scheduled sweep uses too (DESIGN.md §6), with its lease and its re-read after a lost race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn, Protocol

from pydantic import BaseModel, Field

from tiktok_publisher.domain.accounts import Account, Credentials
from tiktok_publisher.domain.errors import Conflict, NotFound, UpstreamError
from tiktok_publisher.domain.post_rules import post_form_contract
from tiktok_publisher.domain.taxonomy import ErrorClass, classify
from tiktok_publisher.domain.tiktok import CreatorInfo
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError
from tiktok_publisher.observability import logger

# OAuth answers to a revoke meaning "this token is already dead": the grant is gone, which is what a
# disconnect wants. Anything else (our credentials refused, TikTok down) leaves the grant alive.
DEAD_TOKEN_CODES = frozenset({"invalid_grant", "invalid_request", "access_token_invalid", "invalid_token"})


class AccountNeedsReconnect(Conflict):
    code = "account_needs_reconnect"


class CreatorCannotPost(Conflict):
    code = "creator_cannot_post"


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


class AccountPort(Protocol):
    def get(self, tenant_id: str, open_id: str) -> Account: ...

    def list(self, tenant_id: str) -> Sequence[Account]: ...

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials: ...

    def mark_revoked(self, tenant_id: str, open_id: str, reason: str | None = ...) -> Any: ...


class TikTokPort(Protocol):
    def revoke(self, access_token: str) -> None: ...

    def creator_info(self, access_token: str) -> CreatorInfo: ...


class TokenPort(Protocol):
    def ensure_fresh_token(self, tenant_id: str, open_id: str, *, now: int) -> str:
        """A live access token, refreshed first when due. Raises AccountNeedsReconnect (grant dead or
        account not active), NotFound (no tokens) or UpstreamError (TikTok unreachable)."""
        ...

    def mark_token_dead(
        self, tenant_id: str, open_id: str, access_token: str, *, code: str, log_id: str | None, now: int
    ) -> bool:
        """TikTok refused `access_token`: needs_reconnect + event, only if the row still holds that token at
        the version read (never overrules a refresh or reconnect). False: the tokens were replaced since."""
        ...


TOKEN_REPLACED_MESSAGE = "The account's TikTok authorization was renewed while TikTok was asked. Try again."


def raise_dead_token(
    tokens: TokenPort,
    tenant_id: str,
    open_id: str,
    access_token: str,
    exc: TikTokError,
    message: str,
    *,
    now: int,
) -> NoReturn:
    """TikTok said `access_token` no longer works (a RECONNECT-class answer outside a refresh): mark the
    account through the refresher's conditional mark, then raise AccountNeedsReconnect; UpstreamError
    (retryable) when a refresh or reconnect replaced the token meanwhile, whose tokens stand."""
    details = _tiktok_details(exc)
    if tokens.mark_token_dead(tenant_id, open_id, access_token, code=exc.code, log_id=exc.log_id, now=now):
        raise AccountNeedsReconnect(message, details=details) from None
    raise UpstreamError(TOKEN_REPLACED_MESSAGE, details=details) from None


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


def list_accounts(tenant_id: str, *, accounts: AccountPort) -> AccountList:
    """Every account of the tenant, in a stable order."""
    items = sorted(accounts.list(tenant_id), key=lambda a: (a.connected_at or "", a.open_id))
    return AccountList(accounts=[view(a) for a in items])


def get_account(tenant_id: str, open_id: str, *, accounts: AccountPort) -> AccountView:
    """One account of the tenant; NotFound for unknown ids and other tenants' ids alike."""
    return view(accounts.get(tenant_id, open_id))


def _tiktok_details(exc: TikTokError) -> dict[str, Any]:
    return {"tiktok_code": exc.code, "log_id": exc.log_id}


def disconnect(
    tenant_id: str,
    open_id: str,
    *,
    accounts: AccountPort,
    client: TikTokPort,
    tokens: TokenPort,
    now: int,
) -> None:
    """Revoke the grant at TikTok, then forget the tokens. The account row (and its posts) stays, `revoked`.

    A token TikTok already considers dead still disconnects; TikTok being unreachable changes nothing, so the
    caller can retry and the grant is not left alive behind our back. Disconnecting twice is a no-op.
    """
    account = accounts.get(tenant_id, open_id)
    access = _token_to_revoke(tenant_id, open_id, accounts=accounts, tokens=tokens, now=now)
    if access is None and account.status == "revoked":
        return
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


def _token_to_revoke(
    tenant_id: str, open_id: str, *, accounts: AccountPort, tokens: TokenPort, now: int
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
    accounts: AccountPort,
    client: TikTokPort,
    tokens: TokenPort,
    audited: bool,
    media_type: Literal["video", "photo"],
    now: int,
) -> CreatorForm:
    """Fresh creator_info for the account plus the post-form contract built from it."""
    account = accounts.get(tenant_id, open_id)
    if account.status != "active":
        raise AccountNeedsReconnect(
            f"This account is {account.status.replace('_', ' ')}. Connect it again before posting.",
            details={"status": account.status},
        )
    access = tokens.ensure_fresh_token(tenant_id, open_id, now=now)
    try:
        info = client.creator_info(access)
    except TikTokError as exc:
        problem = classify(exc.code, exc.http_status)
        if problem.error_class is ErrorClass.RECONNECT:
            raise_dead_token(tokens, tenant_id, open_id, access, exc, problem.message, now=now)
        if problem.error_class is ErrorClass.QUOTA:
            # TikTok's §8 rule: if the creator cannot post now, the form must stop and say so.
            raise CreatorCannotPost(problem.message, details=_tiktok_details(exc)) from None
        raise UpstreamError(problem.message, details=_tiktok_details(exc)) from None
    contract = post_form_contract(info, audited=audited, media_type=media_type)
    return CreatorForm(open_id=open_id, creator=info.model_dump(mode="json"), form=contract)
