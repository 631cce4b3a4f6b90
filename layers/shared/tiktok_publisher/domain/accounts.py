"""A connected TikTok account as the domain sees it (never its tokens), its statuses, and where it stands in
the refresh_due index. Pure."""

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


def refresh_due_at_for(access_expires_at: int, refresh_expires_at: int) -> int:
    """When the sweep must refresh the account: the access token's end, or 30 days before the refresh
    token's end if that comes first (an unknown grant end, 0, is no reason). The refresh_due index's range
    key, written with refresh_shard whenever an active account's tokens are saved."""
    access = int(access_expires_at)
    refresh = int(refresh_expires_at)
    if refresh <= 0:
        return access
    return min(access, refresh - REFRESH_TOKEN_WINDOW_S)


def require_active(account: Account) -> None:
    """Refuse to act for an account that is not active (409: connect it again before posting)."""
    if account.status != AccountStatus.ACTIVE:
        raise AccountNeedsReconnect(
            f"This account is {account.status.replace('_', ' ')}. Connect it again before posting.",
            details={"status": account.status},
        )
