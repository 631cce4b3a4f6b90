"""Scheduled posts (DESIGN.md §5.5): the `publish_at` rules and the scheduled_due shard. Pure.

A scheduled post waits as `scheduled` with `schedule_shard` set, which puts it in the sparse scheduled_due
index (schedule_shard, publish_at); the dispatcher (dispatch/) reads it every minute.
"""

from __future__ import annotations

import zlib
from typing import Any

from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.problems import invalid

SCHEDULE_SHARDS = 4  # fixed: posts already written keep their shard, so this must never shrink
MAX_AHEAD_S = 30 * 86400
# A publish_at up to this far in the past (client clock skew) is "now"; further back is refused.
PAST_SKEW_S = 300


def schedule_shard_for(tenant_id: str, post_id: str, shards: int = SCHEDULE_SHARDS) -> str:
    """The scheduled_due shard of a post (stable, spreads posts evenly)."""
    return str(zlib.crc32(f"{tenant_id}#{post_id}".encode()) % max(1, shards))


def check_publish_at(publish_at: int | None, *, now: float) -> int | None:
    """Validate a requested publish_at (epoch seconds): None or a time already reached means "now" (None);
    more than PAST_SKEW_S in the past or more than 30 days ahead is refused (422 on body.publish_at)."""
    if publish_at is None:
        return None
    if publish_at < now - PAST_SKEW_S:
        raise invalid("body.publish_at", "in_past", "publish_at is in the past.")
    if publish_at > now + MAX_AHEAD_S:
        raise invalid("body.publish_at", "too_far", "publish_at can be at most 30 days ahead.")
    if publish_at <= now:
        return None
    return int(publish_at)


def initial_status(publish_at: int | None, ready_status: str) -> tuple[str, dict[str, Any]]:
    """Status and extra stored fields of a post that would otherwise be `ready_status` (e.g. queued)."""
    if publish_at is None:
        return ready_status, {}
    return PostStatus.SCHEDULED, {"publish_at": int(publish_at)}


def due_now(publish_at: int | None, *, now: float) -> bool:
    """A scheduled post may be published at `now`."""
    return publish_at is None or publish_at <= now


def schedule_fields(post: Post) -> dict[str, Any]:
    """Fields that put a scheduled post into the scheduled_due index."""
    return {"schedule_shard": schedule_shard_for(post.tenant_id, post.post_id), "publish_at": post.publish_at}
