"""Scheduled posts (DESIGN.md §5.5): `publish_at` rules and the minute-level dispatcher.

A scheduled post waits as `scheduled` with `schedule_shard` set, which puts it in the sparse scheduled_due
index (schedule_shard, publish_at). Every minute the dispatcher reads each shard for `publish_at <= now`
(nothing else is read) and, per post, in this order so that a crash anywhere is repaired by the next run:

1. scheduled -> queued (conditional on `scheduled`: a cancel that got there first wins; the post stays
   in the index),
2. send the publish job,
3. drop schedule_shard (the post leaves the index).

A post found in the index as `queued` is one whose run stopped between 1 and 3: its job is sent again
(the worker is idempotent). A post in any other state (cancelled, ...) only leaves the index. Posts are never
dispatched before publish_at: the query's key condition is the clock.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pynamodb.exceptions import PynamoDBException

from tiktok_publisher.adapters.dynamodb import PostModel, StoreError
from tiktok_publisher.adapters.posts_table import PostRepository
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.observability import logger
from tiktok_publisher.publishing.uploads import invalid

SCHEDULE_SHARDS = 4  # fixed: posts already written keep their shard, so this must never shrink
MAX_AHEAD_S = 30 * 86400
# A publish_at up to this far in the past (client clock skew) is "now"; further back is refused.
PAST_SKEW_S = 300
DEFAULT_RESERVE_S = 10.0
PAGE_SIZE = 100


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


class JobQueue(Protocol):
    def send(self, job: Job, *, delay: float = 0) -> None: ...


class ScheduledIndex:
    """Port: the scheduled_due index of the Posts table."""

    def due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Post], dict[str, Any] | None]:
        """Posts of `shard` with publish_at <= now, and the key to continue from (None: no more)."""
        from tiktok_publisher.adapters.posts_table import (
            _to_post,  # the repository's own item -> Post mapping
        )

        try:
            result = PostModel.scheduled_due.query(
                shard, PostModel.publish_at <= now, limit=limit, last_evaluated_key=start, page_size=limit
            )
            posts = [_to_post(item) for item in result]
        except PynamoDBException as exc:
            raise StoreError.wrap("query scheduled_due", exc) from None
        return posts, result.last_evaluated_key


@dataclass
class DispatchReport:
    read: int = 0
    dispatched: int = 0
    resent: int = 0
    unindexed: int = 0
    lost_race: int = 0
    failed: int = 0
    remaining_shards: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class ScheduleDispatcher:
    posts: PostRepository
    queue: JobQueue
    index: ScheduledIndex = field(default_factory=ScheduledIndex)
    shards: int = SCHEDULE_SHARDS
    reserve_s: float = DEFAULT_RESERVE_S
    clock: Callable[[], float] = time.time

    def dispatch_due(self, *, now: int, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        """Enqueue every scheduled post whose publish_at <= now (see module docstring)."""
        time_left = time_left or (lambda: float("inf"))
        report = DispatchReport()
        for number in range(self.shards):
            shard = str(number)
            start: dict[str, Any] | None = None
            while True:
                if time_left() < self.reserve_s:
                    # The next run (a minute later) continues: every due post is still in the index.
                    report.remaining_shards.append(shard)
                    break
                posts, start = self.index.due_page(shard, now=now, limit=PAGE_SIZE, start=start)
                report.read += len(posts)
                for post in posts:
                    try:
                        self._dispatch_one(post, now=now, report=report)
                    except Exception as exc:
                        report.failed += 1
                        logger.error(
                            "scheduled post not dispatched",
                            extra={"post_id": post.post_id, "error_class": type(exc).__name__},
                        )
                if start is None:
                    break
        _measure(report)
        logger.info("scheduled posts dispatched", extra={"dispatch": report.as_dict()})
        return report.as_dict()

    def _dispatch_one(self, post: Post, *, now: int, report: DispatchReport) -> None:
        if post.publish_at is not None and post.publish_at > now:
            return  # the index said due; a re-read says not (a reschedule): leave it
        stamp = self.clock()
        if post.status == PostStatus.SCHEDULED:
            moved = self.posts.update(
                post,
                now=stamp,
                status=PostStatus.QUEUED,
                expect_status={PostStatus.SCHEDULED},
                note="publish_at reached",
            )
            if moved is None:
                report.lost_race += 1  # cancelled (or dispatched) meanwhile: the re-read next run unindexes
                return
            self.queue.send(Job(post.tenant_id, post.post_id))
            report.dispatched += 1
            post = moved
        elif post.status == PostStatus.QUEUED and post.init_started_at is None and not post.publish_id:
            self.queue.send(Job(post.tenant_id, post.post_id))
            report.resent += 1
        else:
            report.unindexed += 1
        self.posts.update(post, now=stamp, remove=("schedule_shard",))
        logger.info("scheduled post left the index", extra={"post_id": post.post_id, "status": post.status})


def _measure(report: DispatchReport) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from tiktok_publisher.observability import metrics

    metrics.add_metric(name="ScheduledPostsDispatched", unit=MetricUnit.Count, value=report.dispatched)
    metrics.add_metric(name="ScheduledPostsFailed", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(
        name="ScheduledShardsRemaining", unit=MetricUnit.Count, value=len(report.remaining_shards)
    )


def build_dispatcher(settings: Any) -> ScheduleDispatcher:
    """The dispatcher on POSTS_TABLE and PUBLISH_QUEUE_URL."""
    from tiktok_publisher.domain.jobs import SqsJobQueue

    settings.require("posts_table")
    return ScheduleDispatcher(PostRepository(), SqsJobQueue(settings.require("publish_queue_url")))


def schedule_fields(post: Post) -> dict[str, Any]:
    """Fields that put a scheduled post into the scheduled_due index."""
    return {"schedule_shard": schedule_shard_for(post.tenant_id, post.post_id), "publish_at": post.publish_at}
