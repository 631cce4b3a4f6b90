"""A burst of posts for ONE account: TikTok 429s per 100 posts, with and without the shared limiter.

Setup, in one process: moto (the template's tables, bucket, queue), the TikTok emulator with its per-token
limits (init 6, creator_info 20, status 30 a minute) on its own clock, and the real publish worker and
scheduled-post dispatcher from bootstrap. SQS is simulated: a queue of (visible_at, job) on a virtual clock
(wall time plus the waits asked for) that the worker, the limiter and the emulator share, so minutes of
waiting cost nothing. WORKERS workers take the jobs visible at each moment and run them concurrently (real
threads against moto and the emulator), and SQS's at-least-once delivery is played by delivering every
first job of a post twice.

The burst: POSTS scheduled direct posts of one account (distinct small videos, SELF_ONLY on a private
creator), all due at the same minute. Each is created through the publish API's logic (creator_info read
once per post), one every 3.1 s, then the dispatcher enqueues them all at once.

Runs, side by side in the same invocation:
- **shared limiter** (the product): every init, creator_info and status call first takes a slot of the
  account's window log in DynamoDB (domain/pacing.py); a call without a slot waits with an SQS delay.
- **per-worker pacing** (before issue 12): every call is made at once; each worker only spaces its own
  retries after TikTok's 429 (the init retry floor of 10 s, status polls' own delays).

Figures per 100 posts: TikTok's rate-limit refusals (the emulator counts them per endpoint), posts published,
TikTok tasks created (a post doubled would show as more than one), posts not published, virtual minutes
from the due time to the last publish, worker runs. Target for the shared limiter: 0 refusals, every post
published exactly once. The daily cap of direct posts (15 a day at TikTok) is lifted on the emulator for
this burst: it is about the per-minute limits, not the daily one.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTS = 100
WORKERS = 4
TENANT = "tenant-bench"
LEAD_S = 3600  # the burst is scheduled an hour after the posts are created
SCHEDULING_GAP_S = 3.1  # the SaaS schedules one post every 3.1 s: within 20 creator_info reads a minute


class VirtualClock:
    """Wall time plus the waits asked for, shared with the emulator (advanced together)."""

    def __init__(self, emulator: Any) -> None:
        self.offset = 0.0
        self._emulator = emulator
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance_to(self, when: float) -> None:
        with self._lock:
            delta = when - self()
            if delta > 0:
                self.offset += delta
                self._emulator.advance(delta)


class SimulatedQueue:
    """SQS with DelaySeconds on the virtual clock; the first job of each post is delivered twice."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def send(self, job: Any, *, delay: float = 0) -> None:
        visible = self._clock() + max(0, min(900, round(delay)))
        with self._lock:
            copies = 1 if job.post_id in self._seen else 2  # at-least-once: a duplicate of the first
            self._seen.add(job.post_id)
            for _ in range(copies):
                heapq.heappush(self._heap, (visible, next(self._seq), job))

    def take(self, limit: int) -> list[Any]:
        """The jobs visible now (at most `limit`); advances the clock to the next one when none is."""
        with self._lock:
            if not self._heap:
                return []
            if self._heap[0][0] > self._clock():
                self._clock.advance_to(self._heap[0][0])
            now = self._clock()
            taken = []
            while self._heap and self._heap[0][0] <= now and len(taken) < limit:
                taken.append(heapq.heappop(self._heap)[2])
            return taken


class AdmitEverything:
    """Before issue 12: no shared limiter, every call is made at once."""

    def reserve(self, tenant_id: str, open_id: str, call: str, *, now: float) -> float:
        return 0.0


def _burst(shared: bool) -> dict[str, Any]:
    import pytest
    from moto import mock_aws

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "local"))
    from local_stack.moto_patches import make_dynamodb_atomic
    from tests.fixtures.aws import _provision, reset_process_caches
    from tests.media import make_mp4
    from tiktok_emulator.testing import start_emulator

    make_dynamodb_atomic()
    patch = pytest.MonkeyPatch()
    emulator = start_emulator({"processing_delay": 2, "daily_post_cap": 100_000})
    try:
        with mock_aws():
            aws = _provision(patch)
            patch.setenv("TIKTOK_API_BASE", emulator.base_url)
            patch.setenv("TIKTOK_AUTH_BASE", emulator.base_url)
            patch.setenv("TIKTOK_UPLOAD_ORIGINS", emulator.base_url)
            patch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
            patch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines in the bench's output
            reset_process_caches()
            try:
                return _run_burst(shared, aws, emulator, make_mp4)
            finally:
                reset_process_caches()
    finally:
        patch.undo()
        emulator.stop()


def _run_burst(shared: bool, aws: Any, emulator: Any, make_mp4: Callable[..., bytes]) -> dict[str, Any]:
    from tiktok_publisher import bootstrap
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.domain.pacing import CallLimitReached
    from tiktok_publisher.domain.tiktok import TokenSet, UserInfo
    from tiktok_publisher.publishing.schemas import CreatePostRequest

    bootstrap.reset()
    ports = bootstrap.ports()
    clock = VirtualClock(emulator)
    queue = SimulatedQueue(clock)
    service, worker, dispatcher = ports.publish_service, ports.worker, ports.dispatcher
    service.clock = worker.clock = dispatcher.clock = clock
    service.queue = worker.queue = dispatcher.queue = queue  # type: ignore[assignment]
    worker.sleep = lambda _s: None
    ports.tiktok._sleep = lambda _s: None
    if not shared:
        service.pacer = worker.pacer = AdmitEverything()

    flat = emulator.issue_token("creator_private")
    tokens = TokenSet(
        access_token=flat["access_token"],
        refresh_token=flat["refresh_token"],
        open_id=flat["open_id"],
        scopes=flat["scope"].split(","),
        expires_in=flat["expires_in"],
        refresh_expires_in=flat["refresh_expires_in"],
    )
    open_id = tokens.open_id
    AccountRepository().save_connection(
        TENANT, open_id, UserInfo(open_id=open_id, display_name="bench"), tokens, now=int(clock())
    )

    # The SaaS schedules the burst: one post after another, honouring the API's 429 + Retry-After.
    due = int(clock()) + LEAD_S
    api_429 = 0
    post_ids: list[str] = []
    for index in range(POSTS):
        key = f"uploads/{TENANT}/{open_id}/bench{index:03d}/clip.mp4"
        aws.s3.put_object(
            Bucket=aws.bucket, Key=key, Body=make_mp4(duration_s=2.0 + index / 100), ContentType="video/mp4"
        )
        body = CreatePostRequest.model_validate(
            {
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "video", "s3_key": key},
                "post_info": {"privacy_level": "SELF_ONLY", "title": f"burst {index}"},
                "publish_at": due,
            }
        )
        while True:
            try:
                post_ids.append(service.create_post(TENANT, f"bench-{index}", body).post_id)
                break
            except CallLimitReached as refused:
                api_429 += 1
                clock.advance_to(clock() + refused.retry_after_s)
        clock.advance_to(clock() + SCHEDULING_GAP_S)
    created_429 = sum(emulator.rate_limited().values())

    # The minute comes: the dispatcher enqueues every post at once; the workers drain the queue.
    clock.advance_to(due + 1)
    dispatcher.dispatch_due(now=int(clock()))
    runs = 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        while True:
            jobs = queue.take(WORKERS)
            if not jobs:
                break
            runs += len(jobs)
            list(pool.map(worker.handle, jobs))
            if runs > 200 * POSTS:
                raise RuntimeError("the burst did not settle")

    posts = [ports.posts.get(TENANT, post_id) for post_id in post_ids]
    emulator.emulator.tick()
    tasks = emulator.state()["posts"]
    published = [p for p in posts if p.status == "published"]
    last = max((_published_at(p) for p in published), default=due)
    refusals = emulator.rate_limited()
    scale = 100 / POSTS
    return {
        "limiter": "shared (DynamoDB window log)" if shared else "per-worker pacing only",
        "posts": POSTS,
        "tiktok_429_per_100_posts": round(sum(refusals.values()) * scale, 1),
        "tiktok_429_by_endpoint": refusals,
        "tiktok_429_while_scheduling": created_429,
        "api_429_while_scheduling": api_429,
        "published": len(published),
        "tiktok_tasks": len(tasks),
        "posts_with_more_than_one_task": sum(
            1 for p in posts if p.publish_id and sum(1 for t in tasks if t["publish_id"] == p.publish_id) > 1
        ),
        "completed_tasks": sum(1 for t in tasks if t["status"] == "PUBLISH_COMPLETE"),
        "not_published": POSTS - len(published),
        "failed_codes": sorted({str((p.fail_reason or {}).get("code")) for p in posts if p not in published}),
        "minutes_to_last_publish": round((last - due) / 60, 1),
        "worker_runs": runs,
    }


def _published_at(post: Any) -> float:
    import datetime as dt

    stamp = post.updated_at or post.created_at
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def run() -> dict[str, Any]:
    """Both runs, side by side."""
    shared = _burst(shared=True)
    before = _burst(shared=False)
    return {
        "posts": POSTS,
        "workers": WORKERS,
        "runs": [shared, before],
        "target_met": shared["tiktok_429_per_100_posts"] == 0
        and shared["published"] == POSTS
        and shared["tiktok_tasks"] == POSTS,
    }


def report(result: dict[str, Any]) -> None:
    """Print the side-by-side table."""
    print(f"{result['posts']} scheduled posts of one account due at once, {result['workers']} workers")
    header = (
        f"{'limiter':>30} | {'429/100 posts':>13} | {'published':>9} | {'tasks':>5} | {'doubled':>7} |"
        f" {'lost':>4} | {'minutes':>7} | {'runs':>5} | 429 by endpoint"
    )
    print(header)
    for r in result["runs"]:
        print(
            f"{r['limiter']:>30} | {r['tiktok_429_per_100_posts']:>13} | {r['published']:>9} |"
            f" {r['tiktok_tasks']:>5} | {r['posts_with_more_than_one_task']:>7} | {r['not_published']:>4} |"
            f" {r['minutes_to_last_publish']:>7} | {r['worker_runs']:>5} | {r['tiktok_429_by_endpoint']}"
        )
    print(f"target (0 429s, every post published once) met by the shared limiter: {result['target_met']}")


if __name__ == "__main__":
    outcome = run()
    report(outcome)
