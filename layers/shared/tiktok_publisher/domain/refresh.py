"""When a token is due, how long a refresher may hold an account, what a sweep hands on. Pure: no I/O.

Two callers decide "due" differently (DESIGN.md §6, docs/events.md "What the schedule does"):
- on demand, before a TikTok call: the access token expires within ON_DEMAND_MARGIN_S (or TikTok just
  refused it: a forced refresh of exactly that token, refresh/core.py);
- the scheduled sweep: the account's refresh_due_at comes before the next run plus SWEEP_MARGIN_S (the
  horizon), i.e. its *refresh* token (the grant) ends within REFRESH_TOKEN_WINDOW_S of it, or a feature
  asked for a live access token by then (`fresh_token_by`). An access token ending is no reason: idle
  accounts cost one refresh per grant, not one per access-token lifetime. refresh_due_at
  (domain.accounts.refresh_due_at_for) is the refresh_due index's range key, so the index query and
  `due_in_sweep` are the same rule and the sweep reads only what it refreshes.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.accounts import ON_DEMAND_MARGIN_S as ON_DEMAND_MARGIN_S
from tiktok_publisher.domain.accounts import REFRESH_TOKEN_WINDOW_S as REFRESH_TOKEN_WINDOW_S
from tiktok_publisher.domain.accounts import refresh_due_at_for

# The longest schedule rate of any stage (template.yaml StageConfig.RefreshRate: dev 1 hour). Sweeping with
# the longest interval only refreshes a little early on faster stages; a shorter guess would let a grant's
# window or a feature's need pass between runs on a slower one.
DEFAULT_RUN_INTERVAL_S = 3600
SWEEP_MARGIN_S = 900
# A refresher holds the account this long at most; a crashed holder blocks others no longer than this. It
# outlasts the slowest refresh call by a wide margin (the publishing client: 3 connect attempts of 3.05 s,
# up to 2 x 4 s of backoff and a 15 s read, ~32 s), so a lease runs out under a live holder only when that
# holder stalled; even then the takeover cannot lose the grant (refresh/core.py, docs/events.md).
LEASE_S = 90
# An access token with at least this much life left is handed out while someone else refreshes it.
MIN_USABLE_S = 60
# Hand-offs of one sweep to the next invocation, at most; beyond that the next scheduled run starts over.
MAX_HOPS = 12


def sweep_horizon(
    now: int, *, interval_s: int = DEFAULT_RUN_INTERVAL_S, margin_s: int = SWEEP_MARGIN_S
) -> int:
    """Refresh every account whose refresh_due_at comes before this epoch second."""
    return int(now) + int(interval_s) + int(margin_s)


def due_in_sweep(
    access_expires_at: int, refresh_expires_at: int, *, horizon: int, fresh_token_by: int | None = None
) -> bool:
    """Refresh in the sweep: the grant ends within REFRESH_TOKEN_WINDOW_S of `horizon`, or a feature needs a
    live access token by then that the current one will not provide (the index's `refresh_due_at < horizon`,
    evaluated on a fresh read)."""
    return refresh_due_at_for(access_expires_at, refresh_expires_at, fresh_token_by=fresh_token_by) < horizon


def due_on_demand(access_expires_at: int, *, now: int, margin_s: int = ON_DEMAND_MARGIN_S) -> bool:
    """A TikTok call is about to be made: refresh first when the access token has < margin left."""
    return access_expires_at - now <= margin_s


def usable_while_busy(access_expires_at: int, *, now: int) -> bool:
    """The current access token may still be used while another refresher holds the account."""
    return access_expires_at - now >= MIN_USABLE_S


def shard_of(tenant_id: str, open_id: str, shards: int) -> str:
    """The refresh_due shard of an account (same rule as store.accounts.refresh_shard_for)."""
    return str(zlib.crc32(f"{tenant_id}#{open_id}".encode()) % max(1, shards))


def all_shards(shards: int) -> list[str]:
    """Every shard key a sweep visits."""
    return [str(i) for i in range(max(1, shards))]


@dataclass(frozen=True)
class ShardCursor:
    """Where a sweep of one shard stands: `after` is the last account handled (None: from the start)."""

    shard: str
    after: tuple[int, str, str] | None = None  # (refresh_due_at, tenant_id, open_id)

    def to_detail(self, *, horizon: int, hop: int) -> dict[str, Any]:
        """The continuation message body (no secrets: shard, keys and numbers only)."""
        after = None
        if self.after is not None:
            after = {"refresh_due_at": self.after[0], "tenant_id": self.after[1], "open_id": self.after[2]}
        return {"shard": self.shard, "after": after, "horizon": int(horizon), "hop": int(hop)}


@dataclass(frozen=True)
class Continuation:
    """A sweep handed on by an invocation that ran out of time."""

    cursor: ShardCursor
    horizon: int
    hop: int


def parse_continuation(detail: Mapping[str, Any]) -> Continuation:
    """Parse a continuation detail; ValueError when it is malformed."""
    try:
        shard = str(detail["shard"])
        horizon = int(detail["horizon"])
        hop = int(detail.get("hop", 0))
        raw = detail.get("after")
        after = None
        if raw is not None and "access_expires_at" in raw and "refresh_due_at" not in raw:
            # Handed on before the index was keyed by refresh_due_at: that position means nothing in the
            # new order, so the shard starts over (refreshed accounts are no longer due; nothing is lost).
            after = None
        elif raw is not None:
            after = (int(raw["refresh_due_at"]), str(raw["tenant_id"]), str(raw["open_id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed sweep continuation ({type(exc).__name__})") from None
    if not shard.isdigit() or hop < 0:
        raise ValueError("malformed sweep continuation (shard/hop)")
    return Continuation(ShardCursor(shard, after), horizon, hop)


@dataclass(frozen=True)
class DueAccount:
    """One entry of the refresh_due index (keys and the version the index saw)."""

    tenant_id: str
    open_id: str
    refresh_due_at: int
    version: int

    @property
    def position(self) -> tuple[int, str, str]:
        """The account's place in its shard (a ShardCursor.after)."""
        return (self.refresh_due_at, self.tenant_id, self.open_id)


@dataclass(frozen=True)
class DuePage:
    items: list[DueAccount]
    more: bool  # DynamoDB has more items in range after this page
    scanned: int  # items DynamoDB read for this page (what the sweep pays for)


@dataclass(frozen=True)
class RefreshKeys:
    """One account row as the backfill sees it: what decides its place in the refresh_due index, and the
    place it has now (no token, no profile)."""

    tenant_id: str
    open_id: str
    status: str
    has_tokens: bool
    access_expires_at: int
    refresh_expires_at: int
    fresh_token_by: int | None
    refresh_shard: str | None
    refresh_due_at: int | None
    version: int

    @property
    def indexed(self) -> bool:
        """Belongs in the sparse index: an active account with tokens."""
        return self.status == "active" and self.has_tokens


@dataclass(frozen=True)
class KeysPage:
    items: list[RefreshKeys]
    next_start: dict[str, Any] | None  # where the next page starts (None: the scan is over)
