"""One read of counts from TikTok, shared by the API (metrics/service.py) and the snapshot run
(metrics/snapshots.py). The caller holds the item's claim; this module asks TikTok, then stores the reading
on the item's row and as a history point.

Ids stay text end to end: the status answer and the video query are parsed with integers kept as their
digits (adapters/tiktok_client.py), stored as DynamoDB strings, answered as JSON strings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiktok_publisher.domain.accounts import Account
from tiktok_publisher.domain.metrics import (
    MAX_IDS_PER_QUERY,
    HistoryPoint,
    ItemKind,
    MetricsPolicy,
    account_reading,
    history_point,
    post_reading,
)
from tiktok_publisher.domain.posts import Post
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.ports import (
    Accounts,
    AccountStats,
    MetricsHistory,
    PostMetrics,
    Posts,
    TikTokContent,
    TikTokDisplay,
    Tokens,
)

# TikTok answers that served nothing: a claim made for them may be given back (a refused call is not counted
# against the token's rate limit, and a scope refusal will pass once the account is connected again).
SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})
# Refusals that mean TikTok read nothing (a refused token included: the read may be made again at once).
NOTHING_SERVED = SCOPE_CODES | {"rate_limit_exceeded", "access_token_invalid"}


def served_nothing(exc: TikTokError) -> bool:
    """TikTok refused the call outright, so the read did not happen."""
    return exc.code in NOTHING_SERVED


@dataclass
class Reads:
    """The ports a read needs; built once in bootstrap.py."""

    posts: Posts
    post_metrics: PostMetrics
    accounts: Accounts
    account_stats: AccountStats
    history: MetricsHistory
    tokens: Tokens
    display: TikTokDisplay
    content: TikTokContent
    policy: MetricsPolicy
    clock: Callable[[], float] = time.time
    calls: dict[str, int] = field(default_factory=dict)  # TikTok calls made, by endpoint (reports)

    def now(self) -> int:
        return int(self.clock())

    def resolve_ids(self, token: str, post: Post, *, now: int) -> list[str]:
        """The post's video ids: those stored, else those of TikTok's status answer (then stored). A
        published post gets its id after TikTok's moderation, so a read may come before it."""
        if post.post_ids:
            return list(post.post_ids)
        if not post.publish_id:
            return []
        self._count("status")
        status = self.content.fetch_status(token, post.publish_id)
        ids = [str(i) for i in status.post_ids]
        if ids:
            self.post_metrics.save_metrics(post, None, post_ids=ids, now=now)
        return ids

    def read_posts(
        self,
        token: str,
        items: Sequence[tuple[Post, Sequence[str]]],
        *,
        now: int,
        points: list[HistoryPoint] | None = None,
    ) -> dict[str, dict[str, Any] | None]:
        """One video query for these posts (their ids, at most 20 in all); each post's reading is stored
        and kept as a history point (written now, or added to `points` for the caller to write in batches).
        A post none of whose videos TikTok returned (not, or no longer, public) maps to None."""
        ids = [i for _, post_ids in items for i in post_ids]
        if not 1 <= len(ids) <= MAX_IDS_PER_QUERY:
            raise ValueError("a video query takes 1 to 20 ids")
        self._count("video_query")
        by_id = {v.id: v for v in self.display.query_videos(token, ids)}
        readings: dict[str, dict[str, Any] | None] = {}
        batch: list[HistoryPoint] = []
        for post, post_ids in items:
            found = [by_id[i] for i in post_ids if i in by_id]
            if not found:
                readings[post.post_id] = None
                continue
            reading = post_reading(found, read_at=now)
            self.post_metrics.save_metrics(post, reading, post_ids=None, now=now)
            batch.append(history_point(self.policy, post.tenant_id, ItemKind.POST, post.post_id, reading))
            readings[post.post_id] = reading
        self._keep(batch, points)
        return readings

    def read_account(
        self, token: str, account: Account, *, now: int, points: list[HistoryPoint] | None = None
    ) -> dict[str, Any]:
        """The account's stats from TikTok, stored and kept as a history point (as in read_posts)."""
        self._count("user_info")
        reading = account_reading(self.display.user_stats(token), read_at=now)
        self.account_stats.save_stats(account, reading)
        point = history_point(self.policy, account.tenant_id, ItemKind.ACCOUNT, account.open_id, reading)
        self._keep([point], points)
        return reading

    def _keep(self, batch: list[HistoryPoint], points: list[HistoryPoint] | None) -> None:
        if points is None:
            self.history.add(batch)
        else:
            points.extend(batch)

    def _count(self, endpoint: str) -> None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
