"""A connected TikTok account as the domain sees it (never its tokens), its statuses, and where it stands in
the refresh_due index (the refresh schedule, DESIGN.md §6). Pure."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tiktok_publisher.domain.errors import AccountNeedsReconnect


class AccountStatus(StrEnum):
    """DESIGN.md §3. Only `active` accounts are in the refresh_due index and may post."""

    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"  # the grant is dead: only the user can bring it back
    REVOKED = "revoked"  # the user or TikTok removed the grant; tokens are gone, the row stays


# The sweep refreshes an account whose refresh token (the grant) ends within this window (DESIGN.md §6).
REFRESH_TOKEN_WINDOW_S = 30 * 86400
# A TikTok call is preceded by a refresh when the access token has less than this left (on demand).
ON_DEMAND_MARGIN_S = 300


@dataclass(frozen=True, slots=True)
class Account:
    """An account as stored, without its tokens."""

    tenant_id: str
    open_id: str
    display_name: str | None
    username: str | None
    avatar_url: str | None
    scopes: list[str]
    status: AccountStatus
    access_expires_at: int
    refresh_expires_at: int
    connected_at: str
    updated_at: str
    last_error: str | None
    version: int
    # A feature that will call TikTok for this account at this time (epoch s) wants a live access token
    # then; the sweep provides it (refresh_due_at_for). None: no such need.
    fresh_token_by: int | None = None
    # After the post (domain/metrics.py): the latest stats reading and when TikTok may be asked again.
    stats: dict[str, Any] | None = None
    stats_next_at: int | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """An account and its decrypted tokens read together (one consistent read, so `version` matches)."""

    account: Account
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)


def iso(epoch: int) -> str:
    """Epoch seconds -> ISO-8601 UTC with a Z suffix (the stored timestamp format)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refresh_shard_for(tenant_id: str, open_id: str, shards: int) -> str:
    """Stable shard of an account in the refresh_due index (spreads the sweep over `shards` queries)."""
    return str(zlib.crc32(f"{tenant_id}#{open_id}".encode()) % max(1, shards))


def refresh_due_at_for(
    access_expires_at: int,
    refresh_expires_at: int,
    *,
    fresh_token_by: int | None = None,
    refreshed_at: int | None = None,
) -> int:
    """When the scheduled sweep must refresh the account: the refresh_due index's range key, written with
    refresh_shard whenever an active account's tokens are saved (DESIGN.md §6, docs/events.md).

    The schedule keeps *grants* alive, not access tokens (those are refreshed on demand, before a TikTok
    call): the account is due REFRESH_TOKEN_WINDOW_S before its refresh token ends, or at `fresh_token_by`
    when a feature asked for a live token then and the current access token will not last until then
    (ON_DEMAND_MARGIN_S included), whichever comes first. An access token ending is never a reason by itself.

    - An unknown grant end (0) keeps the old rule, the access token's end: without it nothing says when the
      grant must be renewed, and refreshing too often is safer than losing the grant.
    - `refreshed_at`: the tokens come from a refresh made then. If that refresh left the grant inside its
      window (TikTok did not renew it), refreshing again would not either: the account is due once more
      only at the grant's very end (that refresh finds it dead and marks it), not at every run until then.
    """
    access = int(access_expires_at)
    refresh = int(refresh_expires_at)
    if refresh <= 0:
        due = access
    else:
        due = refresh - REFRESH_TOKEN_WINDOW_S
        if refreshed_at is not None and due <= int(refreshed_at):
            due = refresh
    if fresh_token_by is not None and not token_lasts(access, until=int(fresh_token_by)):
        due = min(due, int(fresh_token_by))
    return due


def token_lasts(access_expires_at: int, *, until: int) -> bool:
    """An access token ending at `access_expires_at` can still be used for a call made at `until` (more than
    ON_DEMAND_MARGIN_S left then: a call at that time would not refresh it first)."""
    return int(access_expires_at) - int(until) > ON_DEMAND_MARGIN_S


def require_active(account: Account) -> None:
    """Refuse to act for an account that is not active (409: connect it again before posting)."""
    if account.status != AccountStatus.ACTIVE:
        raise AccountNeedsReconnect(
            f"This account is {account.status.replace('_', ' ')}. Connect it again before posting.",
            details={"status": account.status},
        )
