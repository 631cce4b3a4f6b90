"""After the post: which posts and accounts are read from TikTok, how often, and what a reading holds. Pure.

A reading of a post is its view, like, comment and share counts from TikTok's video query (scope
video.list), summed over its public videos; a reading of an account is its follower, following, likes and
video counts from user info (scope user.info.stats). Each item is read from TikTok at most once per
interval: the item's row carries `next_at`, and a read starts only after a conditional write moves it
forward (a claim), whoever reads (the snapshot schedule or the API). Every reading is also kept as a
history point, deleted by DynamoDB's TTL after the history period (docs/metrics.md).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from tiktok_publisher.domain.taxonomy import RATE_LIMITS_PER_MINUTE
from tiktok_publisher.domain.tiktok import PrivacyLevel, UserStats, VideoStats

VIDEO_LIST = "video.list"
USER_INFO_STATS = "user.info.stats"
# Asked for at connect only when the operator enables metrics (connect/scopes.py).
METRICS_SCOPES: tuple[str, ...] = (VIDEO_LIST, USER_INFO_STATS)
VIDEO_COUNTS: tuple[str, ...] = ("view_count", "like_count", "comment_count", "share_count")
ACCOUNT_COUNTS: tuple[str, ...] = ("follower_count", "following_count", "likes_count", "video_count")
# TikTok's video query takes 1 to 20 ids per call.
MAX_IDS_PER_QUERY = 20
# The metrics_due / stats_due indexes spread their items over this many shards (fixed: items already written
# keep their shard, so this must never shrink).
METRICS_SHARDS = 4

T = TypeVar("T")


class ItemKind(StrEnum):
    POST = "post"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class MetricsPolicy:
    """The operator's choices (template parameters MetricsEnabled, MetricsPostIntervalSeconds, ...)."""

    enabled: bool = False
    post_interval_s: int = 3600  # a post is read from TikTok at most once per this
    account_interval_s: int = 21600  # an account's stats, at most once per this
    post_window_s: int = 30 * 86400  # the schedule follows a post this long after it was first tracked
    history_s: int = 90 * 86400  # how long history points are kept (DynamoDB TTL)

    def interval_s(self, kind: ItemKind) -> int:
        """Seconds between two reads of one item of this kind."""
        return self.post_interval_s if kind is ItemKind.POST else self.account_interval_s

    def history_expires_at(self, read_at: int) -> int:
        """The TTL of a history point read at `read_at`."""
        return int(read_at) + self.history_s


def metrics_shard_for(tenant_id: str, item_id: str, shards: int = METRICS_SHARDS) -> str:
    """The shard of an item in the metrics_due / stats_due index (stable, spreads items evenly)."""
    return str(zlib.crc32(f"{tenant_id}#{item_id}".encode()) % max(1, shards))


def may_have_public_video(mode: str, post_info: Mapping[str, Any], post_ids: Sequence[str]) -> bool:
    """Whether TikTok may give this published post a public video (and so counts): it has ids already, or it
    went to everyone, or it was an inbox draft whose audience the creator chose in the TikTok app. TikTok's
    video query only returns public videos; other posts never get an id."""
    if post_ids:
        return True
    if mode == "inbox":
        return True
    return post_info.get("privacy_level") == PrivacyLevel.PUBLIC_TO_EVERYONE


def is_due(next_at: int | None, now: float) -> bool:
    """May TikTok be asked about the item now (no read yet, or its interval has passed)?"""
    return next_at is None or next_at <= now


def window_over(since: int | None, now: float, window_s: int) -> bool:
    """Has the schedule followed this post long enough?"""
    return since is not None and now > since + window_s


# Per access token, per minute: TIKTOK-API.md §6, plus the Display API's video query (video.list), which
# TikTok limits to 600 per minute per token like user info (the emulator plays the same).
READ_LIMITS_PER_MINUTE: dict[str, int] = {**RATE_LIMITS_PER_MINUTE, "video_query": 600}


def run_budget(endpoint: str) -> int:
    """Calls one snapshot run may make with one access token to `endpoint`: a quarter of TikTok's per-minute
    limit. Runs start at least a minute apart and never overlap (the function's timeout is shorter than the
    schedule's rate), so any 60 s window holds the calls of two runs at most: half the limit, the other half
    left to the API and the publish path."""
    return max(1, READ_LIMITS_PER_MINUTE[endpoint] // 4)


def batches(items: Sequence[T], size: int = MAX_IDS_PER_QUERY) -> Iterator[list[T]]:
    """`items` in order, in lists of at most `size`."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def post_reading(videos: Sequence[VideoStats], *, read_at: int) -> dict[str, Any]:
    """What a post stores about one read: totals over its videos, each video's counts, and when."""
    totals = {name: sum(int(getattr(v, name)) for v in videos) for name in VIDEO_COUNTS}
    return {
        "read_at": int(read_at),
        **totals,
        "videos": [
            {"video_id": v.id, **{name: int(getattr(v, name)) for name in VIDEO_COUNTS}} for v in videos
        ],
    }


def account_reading(stats: UserStats, *, read_at: int) -> dict[str, Any]:
    """What an account stores about one read of its stats."""
    return {"read_at": int(read_at), **{name: int(getattr(stats, name)) for name in ACCOUNT_COUNTS}}


def counts_of(kind: ItemKind, reading: Mapping[str, Any]) -> dict[str, int]:
    """The counts a history point keeps of a reading (a chart's y values)."""
    names = VIDEO_COUNTS if kind is ItemKind.POST else ACCOUNT_COUNTS
    return {name: int(reading.get(name) or 0) for name in names}


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One reading kept for charts: the item's series, when it was read, its counts, when it is deleted."""

    series: str
    at: int
    counts: Mapping[str, int]
    expires_at: int


def history_point(
    policy: MetricsPolicy, tenant_id: str, kind: ItemKind, item_id: str, reading: Mapping[str, Any]
) -> HistoryPoint:
    """The history point of a reading."""
    at = int(reading["read_at"])
    return HistoryPoint(
        series=series_key(tenant_id, kind, item_id),
        at=at,
        counts=counts_of(kind, reading),
        expires_at=policy.history_expires_at(at),
    )


def series_key(tenant_id: str, kind: ItemKind, item_id: str) -> str:
    """The history table's partition key: the tenant first, so no read can cross tenants."""
    return f"{tenant_id}#{kind.value}#{item_id}"
