"""What the metrics routes answer (Pydantic: the OpenAPI document is generated from these). Video ids are
strings everywhere: they are int64 and a JSON parser would round them as numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from tiktok_publisher.domain.metrics import ACCOUNT_COUNTS, VIDEO_COUNTS, HistoryPoint
from tiktok_publisher.domain.tiktok import VIDEO_ID_PATTERN

_FRESH = "True when this answer was read from TikTok just now; false when it is the latest stored reading."
_NEXT = "The earliest time TikTok may be asked again about this item (one read per configured interval)."


def _at(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(int(epoch), tz=UTC) if epoch is not None else None


class VideoCounts(BaseModel):
    video_id: str = Field(pattern=VIDEO_ID_PATTERN, description="TikTok's video id (int64) as a string.")
    view_count: int
    like_count: int
    comment_count: int
    share_count: int


class PostMetricsView(BaseModel):
    """GET /v1/posts/{post_id}/metrics: the counts of the post's public video(s), summed, and per video."""

    post_id: str
    open_id: str
    video_ids: list[str] = Field(description="TikTok's video ids as strings (never numbers).")
    read_at: datetime = Field(description="When TikTok gave these counts (UTC).")
    fresh: bool = Field(description=_FRESH)
    next_read_at: datetime | None = Field(None, description=_NEXT)
    view_count: int
    like_count: int
    comment_count: int
    share_count: int
    videos: list[VideoCounts]


class AccountStatsView(BaseModel):
    """GET /v1/accounts/{open_id}/stats: the account's counts from TikTok's user info."""

    open_id: str
    read_at: datetime = Field(description="When TikTok gave these counts (UTC).")
    fresh: bool = Field(description=_FRESH)
    next_read_at: datetime | None = Field(None, description=_NEXT)
    follower_count: int
    following_count: int
    likes_count: int
    video_count: int


class PostHistoryPoint(BaseModel):
    at: datetime
    view_count: int
    like_count: int
    comment_count: int
    share_count: int


class AccountHistoryPoint(BaseModel):
    at: datetime
    follower_count: int
    following_count: int
    likes_count: int
    video_count: int


class PostMetricsHistory(BaseModel):
    """Readings of a post, oldest first, for a chart; kept for the configured history period."""

    post_id: str
    points: list[PostHistoryPoint]
    next_since: int | None = Field(None, description="Pass as `since` for the next page; null at the end.")


class AccountStatsHistory(BaseModel):
    """Readings of an account, oldest first, for a chart; kept for the configured history period."""

    open_id: str
    points: list[AccountHistoryPoint]
    next_since: int | None = Field(None, description="Pass as `since` for the next page; null at the end.")


def post_metrics_view(
    post_id: str, open_id: str, reading: Mapping[str, Any], *, fresh: bool, next_at: int | None
) -> PostMetricsView:
    """The answer for a stored or fresh reading of a post."""
    videos = [
        VideoCounts(**{k: v[k] for k in ("video_id", *VIDEO_COUNTS)}) for v in reading.get("videos", [])
    ]
    return PostMetricsView(
        post_id=post_id,
        open_id=open_id,
        video_ids=[v.video_id for v in videos],
        read_at=_at(int(reading["read_at"])),  # type: ignore[arg-type]
        fresh=fresh,
        next_read_at=_at(next_at),
        videos=videos,
        **{name: int(reading.get(name) or 0) for name in VIDEO_COUNTS},
    )


def account_stats_view(
    open_id: str, reading: Mapping[str, Any], *, fresh: bool, next_at: int | None
) -> AccountStatsView:
    """The answer for a stored or fresh reading of an account."""
    return AccountStatsView(
        open_id=open_id,
        read_at=_at(int(reading["read_at"])),  # type: ignore[arg-type]
        fresh=fresh,
        next_read_at=_at(next_at),
        **{name: int(reading.get(name) or 0) for name in ACCOUNT_COUNTS},
    )


def post_history_view(
    post_id: str, points: Sequence[HistoryPoint], following: int | None
) -> PostMetricsHistory:
    return PostMetricsHistory(
        post_id=post_id,
        points=[PostHistoryPoint(at=_at(p.at), **dict(p.counts)) for p in points],  # type: ignore[arg-type]
        next_since=following,
    )


def account_history_view(
    open_id: str, points: Sequence[HistoryPoint], following: int | None
) -> AccountStatsHistory:
    return AccountStatsHistory(
        open_id=open_id,
        points=[AccountHistoryPoint(at=_at(p.at), **dict(p.counts)) for p in points],  # type: ignore[arg-type]
        next_since=following,
    )
