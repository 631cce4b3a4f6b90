"""One token refresh, shared by the scheduled sweep and the on-demand path (DESIGN.md §6).

    creds = consistent read (tokens + version v)
    not due any more / version moved       -> nothing to do (someone else refreshed)
    lease on the row at version v          -> else BUSY: another refresher is at it right now
    TikTok refresh(refresh_token)
      ok            -> save_refreshed(expected_version=v); a lost write re-reads and uses the winner's token
      invalid_grant -> re-read: version moved? the winner's token stands. Else needs_reconnect (conditional
                       on v) + "Account Needs Reconnect"
      anything else -> TRANSIENT: left for the next run; the lease is released

A TikTok call outside a refresh that finds the access token dead (creator_info) goes through the same
conditional mark with `mark_token_dead`: only if the row still holds that token, at the version just read.

With strict rotation two refreshers of one refresh token cannot both succeed: the second gets invalid_grant.
The lease makes that rare (one refresher per account at a time), and the version check on invalid_grant
makes it harmless (the loser never marks an account whose token was just renewed).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from tiktok_publisher.domain.accounts import Account, AccountStatus, Credentials, iso
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.refresh import LEASE_S, due_on_demand, usable_while_busy
from tiktok_publisher.domain.tiktok import TokenSet
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError
from tiktok_publisher.observability import logger

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


class AccountsPort(Protocol):
    def get(self, tenant_id: str, open_id: str) -> Account: ...

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials: ...

    def save_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, expected_version: int, now: int
    ) -> bool: ...


class LeasePort(Protocol):
    def acquire_lease(
        self, tenant_id: str, open_id: str, *, version: int, owner: str, now: int, ttl: int
    ) -> bool: ...

    def release_lease(self, tenant_id: str, open_id: str, *, owner: str) -> None: ...

    def mark_needs_reconnect(
        self, tenant_id: str, open_id: str, *, expected_version: int, reason: str, now: int
    ) -> bool: ...


class TikTokRefreshPort(Protocol):
    def refresh(self, refresh_token: str) -> TokenSet: ...


class EventsPort(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any], *, tenant_id: str) -> None: ...


Due = Callable[[Account], bool]


@dataclass
class TokenRefresher:
    """Refreshes one account at a time; safe to call from many threads and processes at once."""

    accounts: AccountsPort
    leases: LeasePort
    client: TikTokRefreshPort
    events: EventsPort
    lease_s: int = LEASE_S
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    def refresh(
        self,
        tenant_id: str,
        open_id: str,
        *,
        now: int,
        due: Due,
        expected_version: int | None = None,
    ) -> RefreshResult:
        """Refresh the account if `due(account)` still holds (and, when given, it is still at
        `expected_version`: the version the sweep's index read saw)."""
        try:
            creds = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return RefreshResult(Outcome.GONE)
        account = creds.account
        if account.status != AccountStatus.ACTIVE:
            return RefreshResult(Outcome.GONE)
        if expected_version is not None and account.version != expected_version:
            return _current(Outcome.RACED, creds)
        if not due(account):
            return _current(Outcome.FRESH, creds)
        owner = secrets.token_hex(8)
        if not self.leases.acquire_lease(
            tenant_id, open_id, version=account.version, owner=owner, now=now, ttl=self.lease_s
        ):
            return self._after_lost_lease(tenant_id, open_id, account.version)
        saved = False
        try:
            result = self._refresh_leased(creds, now=now)
            saved = result.outcome in (Outcome.REFRESHED, Outcome.NEEDS_RECONNECT)
            return result
        finally:
            if not saved:
                # Saving bumped the version, which already voided the lease; otherwise hand it back now.
                self.leases.release_lease(tenant_id, open_id, owner=owner)

    def _after_lost_lease(self, tenant_id: str, open_id: str, version: int) -> RefreshResult:
        """The lease write failed: the account moved (use its tokens) or someone holds it."""
        try:
            creds = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return RefreshResult(Outcome.GONE)
        if creds.account.status != AccountStatus.ACTIVE:
            return RefreshResult(Outcome.GONE)
        if creds.account.version != version:
            return _current(Outcome.RACED, creds)
        return _current(Outcome.BUSY, creds)

    def _refresh_leased(self, creds: Credentials, *, now: int) -> RefreshResult:
        account = creds.account
        tenant_id, open_id, version = account.tenant_id, account.open_id, account.version
        try:
            tokens = self.client.refresh(creds.refresh_token)
        except OAuthError as exc:
            if exc.code in DEAD_GRANT_CODES:
                return self._dead_grant(account, exc, now=now)
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
            return RefreshResult(
                Outcome.REFRESHED, tokens.access_token, access_expires_at=now + tokens.expires_in
            )
        # Someone wrote the row while we held the lease (a reconnect): their tokens stand, ours are dropped.
        try:
            return _current(Outcome.RACED, self.accounts.get_credentials(tenant_id, open_id))
        except NotFound:
            return RefreshResult(Outcome.GONE)

    def _dead_grant(self, account: Account, exc: OAuthError, *, now: int) -> RefreshResult:
        tenant_id, open_id = account.tenant_id, account.open_id
        try:
            current = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return RefreshResult(Outcome.GONE)
        if current.account.version != account.version:
            # Our refresh token was rotated away by a refresher that won: its tokens are the live ones.
            return _current(Outcome.RACED, current)
        reason = f"{exc.code}: {exc.message}" if exc.message else exc.code
        if not self._mark_needs_reconnect(account, code=exc.code, reason=reason, log_id=exc.log_id, now=now):
            try:
                return _current(Outcome.RACED, self.accounts.get_credentials(tenant_id, open_id))
            except NotFound:
                return RefreshResult(Outcome.GONE)
        return RefreshResult(Outcome.NEEDS_RECONNECT, error_code=exc.code, log_id=exc.log_id)

    def mark_token_dead(
        self, tenant_id: str, open_id: str, access_token: str, *, code: str, log_id: str | None, now: int
    ) -> bool:
        """TikTok refused `access_token` outside a refresh (e.g. creator_info said it is invalid): mark the
        account needs_reconnect and emit "Account Needs Reconnect", through the refresh's conditional mark.

        The row is read again and marked only if it still holds that access token, at the version read:
        a refresh or reconnect that replaced it (before or during this call) is never overruled. True when
        the account is out of service (marked now, or already not active / without tokens); False when its
        tokens were replaced since, so the caller may try again with the new ones.
        """
        try:
            current = self.accounts.get_credentials(tenant_id, open_id)
        except NotFound:
            return True
        if current.account.status != AccountStatus.ACTIVE:
            return True
        if not hmac.compare_digest(current.access_token.encode(), access_token.encode()):
            return False
        if self._mark_needs_reconnect(current.account, code=code, reason=code, log_id=log_id, now=now):
            return True
        try:
            return self.accounts.get(tenant_id, open_id).status != AccountStatus.ACTIVE
        except NotFound:
            return True

    def _mark_needs_reconnect(
        self, account: Account, *, code: str, reason: str, log_id: str | None, now: int
    ) -> bool:
        """needs_reconnect only if the row is still at `account.version`, then the event. False: it moved."""
        tenant_id, open_id = account.tenant_id, account.open_id
        if not self.leases.mark_needs_reconnect(
            tenant_id, open_id, expected_version=account.version, reason=reason, now=now
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
        self, tenant_id: str, open_id: str, *, now: int, wait_s: float = 10.0, poll_s: float = 0.2
    ) -> str:
        """A live access token for a TikTok call, refreshed first when it expires within 5 minutes.

        Raises AccountNeedsReconnect (grant dead or account not active), NotFound (no such account or no
        tokens), UpstreamError (TikTok unreachable, or another refresher held the account past `wait_s`).
        """
        deadline = self.monotonic() + wait_s
        while True:
            result = self.refresh(
                tenant_id, open_id, now=now, due=lambda a: due_on_demand(a.access_expires_at, now=now)
            )
            outcome = result.outcome
            if outcome in (Outcome.REFRESHED, Outcome.FRESH, Outcome.RACED) and result.access_token:
                return result.access_token
            if outcome is Outcome.BUSY and result.access_token:
                if usable_while_busy(result.access_expires_at, now=now):
                    return result.access_token
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
            # BUSY with an expiring token (or RACED without a token): wait for the other refresher.
            if self.monotonic() >= deadline:
                raise UpstreamError("The account's token is being refreshed. Try again in a few seconds.")
            self.sleep(poll_s)

    def _raise_gone(self, tenant_id: str, open_id: str) -> None:
        account = self.accounts.get(tenant_id, open_id)  # NotFound when the account itself is gone
        if account.status != AccountStatus.ACTIVE:
            raise AccountNeedsReconnect(
                f"This account is {account.status.replace('_', ' ')}. Connect it again before posting.",
                details={"status": account.status},
            )
        raise NotFound("This account has no stored authorization. Connect it again.")


def _current(outcome: Outcome, creds: Credentials) -> RefreshResult:
    return RefreshResult(outcome, creds.access_token, access_expires_at=creds.account.access_expires_at)


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
