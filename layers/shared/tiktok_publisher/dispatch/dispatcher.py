"""The minute-level dispatcher of scheduled posts (DESIGN.md §5.5).

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import ABSENT, Post, PostStatus
from tiktok_publisher.domain.schedule import SCHEDULE_SHARDS
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import JobQueue, Posts, ScheduledPosts

DEFAULT_RESERVE_S = 10.0
PAGE_SIZE = 100


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
    posts: Posts
    queue: JobQueue
    index: ScheduledPosts
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
                # The publish_at read: a reschedule (PATCH) that landed after our read keeps the post waiting.
                expect={"publish_at": post.publish_at if post.publish_at is not None else ABSENT},
                note="publish_at reached",
            )
            if moved is None:
                # Cancelled, rescheduled or dispatched meanwhile: the next run reads it again when it is due.
                report.lost_race += 1
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
    count("ScheduledPostsDispatched", report.dispatched)
    count("ScheduledPostsFailed", report.failed)
    count("ScheduledShardsRemaining", len(report.remaining_shards))
