"""One token refresh, shared by the scheduled sweep and the on-demand path (DESIGN.md §6).

    creds = consistent read (tokens + version v)
    not due any more / version moved       -> nothing to do (someone else refreshed)
      (due: the caller's rule, or the stored access token is the one TikTok just rejected: a forced refresh)
    lease on the row at version v          -> else BUSY: another refresher is at it right now
    TikTok refresh(refresh_token)
      ok            -> save at v; else restore over a needs_reconnect mark made from v; else the row moved
                       (a reconnect, a disconnect): the newer tokens stand
      invalid_grant -> needs_reconnect (made from v, only while we still hold the lease) + "Account Needs
                       Reconnect"; if the row moved or the lease was taken over, the other side's tokens
                       stand (or will: wait for them)
      anything else -> TRANSIENT: left for the next run; the lease is released

Why a live grant is never lost (the argument in full: docs/events.md, "A live grant is never lost"). With
strict rotation only one refresher of a refresh token can succeed; every other one gets invalid_grant.
- Tokens from TikTok win. A refresher holding tokens TikTok just issued from version v saves them at v, or
  over a needs_reconnect mark made from v (`restore_refreshed`): they are proof the grant lives, so no
  mark made from the same version can have been right. The SaaS then gets "Account Connected" with
  `restored: true` after the mark's "Account Needs Reconnect".
- Only the current lease holder marks (fencing): a refresher whose lease ran out and was taken over never
  marks; and a TikTok call that finds the access token dead outside a refresh (`mark_token_dead`) never
  marks while a refresher holds a live lease.
- One clock for leases: every lease is taken and compared on this refresher's `clock` (wall time), never on
  the caller's `now` (a worker's injected clock, a late job's timestamp), so a lease looks the same to all.
- The lease outlasts the slowest refresh call (policy.LEASE_S), so a takeover happens only after a holder
  stalled or died; the first rule keeps even that case safe.

A forced refresh (TikTok answered `access_token_invalid` before the token's stated expiry) is this same
refresh with one more reason to be due: the row still holds exactly the rejected token. It takes the same
lease, saves at the same version and marks only on invalid_grant, so every rule above holds for it; and
callers that saw the same token rejected share one refresh: the first takes the lease, the others wait for
its save (BUSY) and find a token that is no longer the rejected one (`call_with_token`).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from tiktok_publisher.domain.accounts import Account, AccountStatus, Credentials, iso, require_active
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.refresh import LEASE_S, due_on_demand, usable_while_busy
from tiktok_publisher.domain.tiktok import TokenSet
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError, token_rejected
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import Accounts, Events, RefreshLeases, TikTokAuth

# OAuth answers meaning "this grant is dead": only the user can bring the account back.
DEAD_GRANT_CODES = frozenset({"invalid_grant"})
# OAuth answers meaning "our app's credentials are wrong": no account's fault; never mark accounts for it.
APP_CONFIG_CODES = frozenset({"invalid_client", "unauthorized_client", "unsupported_grant_type"})
RECONNECT_MESSAGE = "TikTok no longer accepts this account's authorization. Connect it again."


class Outcome(StrEnum):
    REFRESHED = "refreshed"  # we refreshed and saved
    FRESH = "fresh"  # not due (any more): nothing to do
    RACED = "raced"  # another writer changed the account since it was read: its tokens stand
    BUSY = "busy"  # another refresher holds the account right now
    NEEDS_RECONNECT = "needs_reconnect"  # the grant is dead; account marked, event sent
    TRANSIENT = "transient"  # TikTok or the network failed: try again later
    APP_CONFIG = "app_config"  # TikTok refused our client credentials: an operator must fix the secret
    GONE = "gone"  # no such account, no tokens, or not active


@dataclass(frozen=True)
class RefreshResult:
    outcome: Outcome
    access_token: str | None = field(default=None, repr=False)
    access_expires_at: int = 0
    error_code: str | None = None
    log_id: str | None = None


Due = Callable[[Account], bool]
T = TypeVar("T")


@dataclass
class TokenRefresher:
    """Refreshes one account at a time; safe to call from many threads and processes at once."""

    accounts: Accounts
    leases: RefreshLeases
    client: TikTokAuth
    events: Events
    lease_s: int = LEASE_S
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    # Leases are taken and compared on this clock only (wall time in production; see module docstring).
    clock: Callable[[], float] = time.time

    def refresh(
        self,
        tenant_id: str,
        open_id: str,
        *,
        now: int,
        due: Due,
        expected_version: int | None = None,
        rejected_token: str | None = None,
    ) -> RefreshResult:
        """Refresh the account if `due(account)` still holds, or the row still holds `rejected_token` (the
        access token TikTok just refused: a forced refresh); and, when given, it is still at
        `expected_version` (the version the sweep's index read saw)."""
        try:
            creds = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return RefreshResult(Outcome.GONE)
        account = creds.account
        if account.status != AccountStatus.ACTIVE:
            return RefreshResult(Outcome.GONE)
        if expected_version is not None and account.version != expected_version:
            return _current(Outcome.RACED, creds)
        if not (due(account) or _holds(creds, rejected_token)):
            return _current(Outcome.FRESH, creds)
        owner = secrets.token_hex(8)
        if not self.leases.acquire_lease(
            tenant_id, open_id, version=account.version, owner=owner, now=int(self.clock()), ttl=self.lease_s
        ):
            return self._reread(tenant_id, open_id, account.version)
        saved = False
        try:
            result = self._refresh_leased(creds, owner=owner, now=now)
            saved = result.outcome in (Outcome.REFRESHED, Outcome.NEEDS_RECONNECT)
            return result
        finally:
            if not saved:
                # Saving bumped the version, which already voided the lease; otherwise hand it back now.
                self.leases.release_lease(tenant_id, open_id, owner=owner)

    def _reread(self, tenant_id: str, open_id: str, version: int) -> RefreshResult:
        """After a lost lease, a lost save or a refused mark: the account moved (use its tokens), left
        service, or is still at `version` with another refresher at it (BUSY: its tokens are coming)."""
        try:
            creds = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return RefreshResult(Outcome.GONE)
        if creds.account.status != AccountStatus.ACTIVE:
            return RefreshResult(Outcome.GONE)
        if creds.account.version != version:
            return _current(Outcome.RACED, creds)
        return _current(Outcome.BUSY, creds)

    def _refresh_leased(self, creds: Credentials, *, owner: str, now: int) -> RefreshResult:
        account = creds.account
        tenant_id, open_id, version = account.tenant_id, account.open_id, account.version
        try:
            tokens = self.client.refresh(creds.refresh_token)
        except OAuthError as exc:
            if exc.code in DEAD_GRANT_CODES:
                return self._dead_grant(account, exc, owner=owner, now=now)
            if exc.code in APP_CONFIG_CODES:
                logger.error(
                    "tiktok refused the app's credentials on refresh",
                    extra={"tiktok_code": exc.code, "log_id": exc.log_id, "open_id": open_id},
                )
                return RefreshResult(Outcome.APP_CONFIG, error_code=exc.code, log_id=exc.log_id)
            return _transient(exc, open_id)
        except TikTokError as exc:
            return _transient(exc, open_id)
        if tokens.open_id and tokens.open_id != open_id:
            # Never store another user's tokens on this row.
            logger.error("refresh answered for another open_id", extra={"open_id": open_id})
            return RefreshResult(Outcome.TRANSIENT, error_code="open_id_mismatch")
        if self.accounts.save_refreshed(tenant_id, open_id, tokens, expected_version=version, now=now):
            logger.info("access token refreshed", extra={"open_id": open_id, "version": version + 1})
            return _issued(tokens, now=now)
        restored = self.accounts.restore_refreshed(
            tenant_id, open_id, tokens, marked_from_version=version, now=now
        )
        if restored is not None:
            self._announce_restored(restored)
            return _issued(tokens, now=now)
        # Someone wrote the row while we held the lease (a reconnect, a disconnect): theirs stands.
        return self._reread(tenant_id, open_id, version)

    def _dead_grant(self, account: Account, exc: OAuthError, *, owner: str, now: int) -> RefreshResult:
        reason = f"{exc.code}: {exc.message}" if exc.message else exc.code
        if not self._mark_needs_reconnect(
            account, code=exc.code, reason=reason, log_id=exc.log_id, now=now, lease_owner=owner
        ):
            # The row moved (the winner saved: use its tokens), or our lease was taken over by a refresher
            # that decides in our place (BUSY: its outcome is coming).
            return self._reread(account.tenant_id, account.open_id, account.version)
        return RefreshResult(Outcome.NEEDS_RECONNECT, error_code=exc.code, log_id=exc.log_id)

    def _announce_restored(self, account: Account) -> None:
        """Undo, for the SaaS, the "Account Needs Reconnect" a racing refresher sent."""
        detail = {
            "open_id": account.open_id,
            "display_name": account.display_name,
            "username": account.username,
            "scopes": list(account.scopes),
            "reconnected": True,
            "restored": True,
        }
        try:
            self.events.publish(DetailType.ACCOUNT_CONNECTED, detail, tenant_id=account.tenant_id)
        except Exception as event_exc:
            logger.error(
                "account restored: event not published",
                extra={"open_id": account.open_id, "error_class": type(event_exc).__name__},
            )

    def mark_token_dead(
        self, tenant_id: str, open_id: str, access_token: str, *, code: str, log_id: str | None, now: int
    ) -> bool:
        """TikTok refused `access_token` outside a refresh (e.g. creator_info said it is invalid): mark the
        account needs_reconnect and emit "Account Needs Reconnect", through the refresh's conditional mark.

        The row is read again and marked only if it still holds that access token, at the version read, and
        no refresher holds a live lease on it: a refresh or reconnect that replaced the token, or is replacing
        it right now, is never overruled. True when the account is out of service (marked now, or already not
        active / without tokens); False when its tokens were replaced since or are being replaced, so the
        caller may try again with the new ones.
        """
        try:
            current = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return True
        if current.account.status != AccountStatus.ACTIVE:
            return True
        if not hmac.compare_digest(current.access_token.encode(), access_token.encode()):
            return False
        if self._mark_needs_reconnect(
            current.account, code=code, reason=code, log_id=log_id, now=now, lease_owner=None
        ):
            return True
        try:
            return self.accounts.get(tenant_id, open_id).status != AccountStatus.ACTIVE
        except NotFound:
            return True

    def _mark_needs_reconnect(
        self,
        account: Account,
        *,
        code: str,
        reason: str,
        log_id: str | None,
        now: int,
        lease_owner: str | None,
    ) -> bool:
        """needs_reconnect if the row is still at `account.version` and the lease allows it (see
        RefreshLeases.mark_needs_reconnect), then the event. False: it moved, or a refresher holds it."""
        tenant_id, open_id = account.tenant_id, account.open_id
        if not self.leases.mark_needs_reconnect(
            tenant_id,
            open_id,
            expected_version=account.version,
            reason=reason,
            now=now,
            lease_owner=lease_owner,
            lease_now=int(self.clock()),
        ):
            return False
        logger.warning(
            "account needs reconnect", extra={"open_id": open_id, "tiktok_code": code, "log_id": log_id}
        )
        detail = {
            "open_id": open_id,
            "status": "needs_reconnect",
            "reason": code,
            "message": RECONNECT_MESSAGE,
            "log_id": log_id,
            "occurred_at": iso(now),
        }
        try:
            self.events.publish(DetailType.ACCOUNT_NEEDS_RECONNECT, detail, tenant_id=tenant_id)
        except Exception as event_exc:
            logger.error(
                "account needs reconnect: event not published",
                extra={"open_id": open_id, "error_class": type(event_exc).__name__},
            )
        return True

    # ------------------------------------------------------------------ on demand

    def ensure_fresh_token(
        self,
        tenant_id: str,
        open_id: str,
        *,
        now: int,
        rejected_token: str | None = None,
        wait_s: float = 10.0,
        poll_s: float = 0.2,
    ) -> str:
        """A live access token for a TikTok call, refreshed first when it expires within 5 minutes, or when
        it is `rejected_token` (TikTok refused it: that exact token is never handed out again).

        Raises AccountNeedsReconnect (grant dead or account not active), NotFound (no such account or no
        tokens), UpstreamError (TikTok unreachable, or another refresher held the account past `wait_s`).
        """
        deadline = self.monotonic() + wait_s
        while True:
            result = self.refresh(
                tenant_id,
                open_id,
                now=now,
                due=lambda a: due_on_demand(a.access_expires_at, now=now),
                rejected_token=rejected_token,
            )
            outcome = result.outcome
            token = result.access_token
            usable = bool(token) and not _same(token, rejected_token)
            if outcome in (Outcome.REFRESHED, Outcome.FRESH, Outcome.RACED) and usable:
                return str(token)
            if outcome is Outcome.BUSY and usable:
                if usable_while_busy(result.access_expires_at, now=now):
                    return str(token)
            elif outcome is Outcome.NEEDS_RECONNECT:
                raise AccountNeedsReconnect(
                    RECONNECT_MESSAGE, details={"tiktok_code": result.error_code, "log_id": result.log_id}
                )
            elif outcome is Outcome.GONE:
                self._raise_gone(tenant_id, open_id)
            elif outcome in (Outcome.TRANSIENT, Outcome.APP_CONFIG):
                raise UpstreamError(
                    "TikTok could not refresh the token. Try again.",
                    details={"tiktok_code": result.error_code, "log_id": result.log_id},
                )
            # BUSY with an expiring (or the rejected) token, or RACED without a token: wait for the other
            # refresher's save.
            if self.monotonic() >= deadline:
                raise UpstreamError("The account's token is being refreshed. Try again in a few seconds.")
            self.sleep(poll_s)

    def replace_rejected_token(self, tenant_id: str, open_id: str, rejected_token: str, *, now: int) -> str:
        """TikTok refused `rejected_token` before its stated expiry: a live token that is not it. One forced
        refresh of exactly that token, shared by every caller that saw it refused (whoever comes after the
        first one's save finds another token and refreshes nothing). Raises as `ensure_fresh_token`; the
        account is marked needs_reconnect only when the refresh itself gets invalid_grant."""
        logger.info("tiktok refused the access token early: forced refresh", extra={"open_id": open_id})
        count("AccessTokenRejected", 1)
        return self.ensure_fresh_token(tenant_id, open_id, now=now, rejected_token=rejected_token)

    def call_with_token(self, tenant_id: str, open_id: str, call: Callable[[str], T], *, now: int) -> T:
        """`call(access_token)` with a live token; if TikTok answers `access_token_invalid`, once more with a
        token from `replace_rejected_token`. The second answer stands, whatever it is: TikTokError from
        `call` propagates, token failures raise as `ensure_fresh_token`."""
        token = self.ensure_fresh_token(tenant_id, open_id, now=now)
        try:
            return call(token)
        except TikTokError as exc:
            if not token_rejected(exc):
                raise
        return call(self.replace_rejected_token(tenant_id, open_id, token, now=now))

    def _raise_gone(self, tenant_id: str, open_id: str) -> None:
        require_active(self.accounts.get(tenant_id, open_id))  # NotFound when the account itself is gone
        raise NotFound("This account has no stored authorization. Connect it again.")


def _same(token: str | None, other: str | None) -> bool:
    """Constant-time equality of two tokens (False when either is missing)."""
    return bool(token) and bool(other) and hmac.compare_digest(str(token).encode(), str(other).encode())


def _holds(creds: Credentials, rejected_token: str | None) -> bool:
    """The row still holds the access token TikTok refused (so nobody has replaced it yet)."""
    return _same(creds.access_token, rejected_token)


def _current(outcome: Outcome, creds: Credentials) -> RefreshResult:
    return RefreshResult(outcome, creds.access_token, access_expires_at=creds.account.access_expires_at)


def _issued(tokens: TokenSet, *, now: int) -> RefreshResult:
    return RefreshResult(Outcome.REFRESHED, tokens.access_token, access_expires_at=now + tokens.expires_in)


def _transient(exc: TikTokError, open_id: str) -> RefreshResult:
    logger.warning(
        "token refresh failed; left for the next run",
        extra={
            "open_id": open_id,
            "tiktok_code": exc.code,
            "http_status": exc.http_status,
            "log_id": exc.log_id,
        },
    )
    return RefreshResult(Outcome.TRANSIENT, error_code=exc.code, log_id=exc.log_id)
