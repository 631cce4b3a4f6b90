"""The snapshot schedule (MetricsSchedule -> the metrics function) against moto and the emulator: every due
post and account is read once per interval, 20 video ids per video query, tokens refreshed on demand,
within a quarter of TikTok's per-token limits per run, with history kept; the call counts are TikTok's,
counted at the wire."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.metrics.conftest import ACCOUNT_INTERVAL, COUNTS, INTERVAL, MetricsWorld

ALL = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
]
HOUR = 3600


def _seed(world: MetricsWorld, account: str, open_id: str, count: int) -> list[str]:
    """`count` public videos at TikTok and our published posts for them; the post ids."""
    post_ids = []
    for number in range(count):
        publish_id, video_id = world.public_video_at_tiktok(account, title=f"{account} {number}")
        post_ids.append(world.published_post(open_id, publish_id, [video_id]))
    return post_ids


def _paths(world: MetricsWorld) -> list[str]:
    return [c.path for c in world.tiktok_calls("/v2/")]


@pytest.fixture
def seeded(world: MetricsWorld) -> dict[str, Any]:
    """creator_public with 21 public posts (two video queries), creator_nocomments with 2; both granted the
    metrics scopes."""
    public = world.connect_with("creator_public", ALL)
    other = world.connect_with("creator_nocomments", ALL)
    posts = {
        public: _seed(world, "creator_public", public, 21),
        other: _seed(world, "creator_nocomments", other, 2),
    }
    world.advance(HOUR)
    world.forget_calls()
    return {"public": public, "other": other, "posts": posts}


def test_a_run_reads_every_due_item_once_in_batches_of_twenty(
    world: MetricsWorld, seeded: dict[str, Any]
) -> None:
    # When the schedule runs (tokens are fresh: no refresh needed)
    report = world.snapshot()

    # Then TikTok got 2 video queries for the 21 posts of one account (20 ids, then 1) and 1 for the other's
    # 2, plus one user info per account, and nothing else
    queries = world.tiktok_calls("/v2/video/query/")
    assert len(queries) == 2 + 1
    assert sorted(_paths(world)) == sorted(["/v2/video/query/"] * 3 + ["/v2/user/info/"] * 2)
    assert all(c.status == 200 for c in world.calls)  # no call over TikTok's limits, no error
    assert report["tiktok_calls"] == {"video_query": 3, "user_info": 2}
    assert report["posts_read"] == 23
    assert report["accounts_read"] == 2
    assert report["posts_due"] == 23

    # And every post stores exactly what TikTok answered, and a history point was kept per item
    from tiktok_publisher.adapters.posts_table import PostRepository

    answered = world.answered_counts()
    for post_ids in seeded["posts"].values():
        for post_id in post_ids:
            post = PostRepository().get(world.tenant, post_id)
            (video_id,) = post.post_ids
            assert post.metrics is not None
            assert {c: post.metrics[c] for c in COUNTS} == answered[video_id]
    items = world.history_items()
    posts_points = [i for i in items if "#post#" in i["series"]["S"]]
    account_points = [i for i in items if "#account#" in i["series"]["S"]]
    assert len(posts_points) == 23
    assert len(account_points) == 2
    assert all(int(i["expires_at"]["N"]) > int(i["at"]["N"]) for i in items)  # TTL set
    assert all(i["series"]["S"].startswith(f"{world.tenant}#") for i in items)

    # When it runs again in the same interval: nothing is due, TikTok is not called
    world.forget_calls()
    again = world.snapshot()
    assert world.tiktok_calls() == []
    assert again["posts_due"] == 0
    assert again["accounts_due"] == 0

    # After the post interval: every post again, the accounts not yet (their interval is longer)
    world.advance(INTERVAL)
    world.forget_calls()
    later = world.snapshot()
    assert later["tiktok_calls"] == {"video_query": 3}
    assert later["posts_read"] == 23
    assert len([i for i in world.history_items() if "#post#" in i["series"]["S"]]) == 46

    # After the account interval: the accounts too (with the on-demand token refresh of each: 2 h tokens)
    world.advance(ACCOUNT_INTERVAL)
    world.forget_calls()
    world.snapshot()
    assert len(world.tiktok_calls("/v2/user/info/")) == 2
    assert len(world.tiktok_calls("/v2/oauth/token/")) == 2  # refreshed on demand, once per account


def test_the_api_and_the_schedule_share_one_read_per_interval(
    world: MetricsWorld, seeded: dict[str, Any]
) -> None:
    # Given one post read through the API just now
    first = seeded["posts"][seeded["other"]][0]
    assert world.metrics(f"/v1/posts/{first}/metrics").body["fresh"] is True
    world.forget_calls()

    # When the schedule runs: that post is not due, the other of its account is (one query)
    report = world.snapshot()
    assert report["posts_read"] == 22
    assert len(world.tiktok_calls("/v2/video/query/")) == 3  # 2 for the 21, 1 for the other account's 1
    # And the API answers that post from the stored reading
    assert world.metrics(f"/v1/posts/{first}/metrics").body["fresh"] is False


def test_a_run_stays_within_its_budget_and_leaves_the_rest_due(
    world: MetricsWorld, seeded: dict[str, Any]
) -> None:
    from tiktok_publisher.metrics import snapshots

    # Given a budget of 1 video query per token per run (TikTok's real limit allows 150)
    run = world.wired.snapshot_run
    run.budget = lambda: snapshots._Budget(left={"video_query": 1, "status": 1, "user_info": 1})

    report = world.snapshot()

    # Then 1 query for the 21-post account (20 posts) and 1 for the other, the 1 left is still due
    assert report["tiktok_calls"]["video_query"] == 2
    assert report["posts_read"] == 22
    assert report["posts_left_due"] == 1
    world.forget_calls()
    rest = world.snapshot()
    assert rest["posts_read"] == 1
    assert rest["tiktok_calls"] == {"video_query": 1}


def test_a_rate_limited_token_stops_for_the_run_and_its_posts_stay_due(
    world: MetricsWorld, seeded: dict[str, Any]
) -> None:
    # Given TikTok answering 429 to the next video queries (the client tries 3 times, then gives up)
    world.emulator.fault("video_query", "429", count=3)

    report = world.snapshot()

    # Then the account whose query was refused makes no other query in this run (its token is left alone),
    # the other account is read, and every refused post is still due: the next run reads exactly those
    queries = world.tiktok_calls("/v2/video/query/")
    assert [c.status for c in queries].count(429) == 3
    left = report["posts_left_due"]
    assert left in (21, 2)  # whichever account the run met first
    assert report["posts_read"] == 23 - left
    # The account read made its queries (2 for 21 posts, 1 for 2); the refused one none after its 429s
    assert [c.status for c in queries].count(200) == (1 if left == 21 else 2)
    world.forget_calls()
    after = world.snapshot()
    assert after["posts_read"] == left
    assert all(c.status == 200 for c in world.calls)


def test_posts_leave_the_schedule_after_the_window_or_with_their_account(
    world: MetricsWorld, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    # Given the account of the 2 posts disconnected (its grant is gone)
    AccountRepository().mark_revoked(world.tenant, seeded["other"], "disconnected")
    report = world.snapshot()
    assert report["posts_untracked"] == 2
    assert report["accounts_untracked"] == 1
    assert report["posts_read"] == 21

    # When the 30-day window has passed: the posts leave the index without a call
    world.advance(31 * 86400)
    world.forget_calls()
    report = world.snapshot()
    assert report["posts_untracked"] == 21
    assert world.tiktok_calls("/v2/video/query/") == []
    world.advance(INTERVAL)
    assert world.snapshot()["posts_due"] == 0


def test_an_id_missing_at_publication_is_resolved_by_the_run(world: MetricsWorld) -> None:
    # Given a post published before TikTok's review gave it an id (moderation 10 minutes later)
    world.emulator.configure(moderation_delay=600)
    open_id = world.connect_with("creator_public", ALL)
    publish_id = _unreviewed_video(world)
    post_id = world.published_post(open_id, publish_id, [])
    world.forget_calls()

    # When the schedule runs before the review: one status call, no id, the post waits an interval
    report = world.snapshot()
    assert _paths(world) == ["/v2/post/publish/status/fetch/", "/v2/user/info/"]
    assert report["ids_resolved"] == 0

    # Then after the review and the interval, the run reads the id from status and the counts in one go
    world.advance(INTERVAL)
    world.forget_calls()
    report = world.snapshot()
    assert report["ids_resolved"] == 1
    assert report["posts_read"] == 1
    post = world.post(post_id)
    (video_id,) = post["post_ids"]
    assert isinstance(video_id, str)
    assert post["metrics"]["videos"][0]["video_id"] == video_id


def _unreviewed_video(world: MetricsWorld) -> str:
    """A public post at TikTok whose review has not happened yet (no id)."""
    import requests

    from tiktok_emulator.testing import fake_mp4

    token = world.emulator.issue_token("creator_public", ["video.publish"])["access_token"]
    data = fake_mp4(4000, duration_sec=5)
    init = requests.post(
        f"{world.emulator.base_url}/v2/post/publish/video/init/",
        json={
            "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "later"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": len(data),
                "chunk_size": len(data),
                "total_chunk_count": 1,
            },
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["data"]
    requests.put(
        init["upload_url"],
        data=data,
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
        timeout=10,
    ).raise_for_status()
    world.emulator.advance(0)
    return str(init["publish_id"])


def test_a_token_tiktok_ended_early_is_replaced_once_and_the_refused_posts_stay_due(
    world: MetricsWorld, seeded: dict[str, Any]
) -> None:
    # Given creator_public's access token ended by TikTok before its stated expiry (21 posts: 2 queries)
    assert world.emulator.expire_access_token(account="creator_public") >= 1

    report = world.snapshot()

    # Then its first query is refused, exactly one forced refresh follows, and the account's next query in
    # the same run goes out with the new token; the refused batch stays due and the account stays active
    queries = world.tiktok_calls("/v2/video/query/")
    assert [c.status for c in queries].count(401) == 1
    assert len(world.tiktok_calls("/oauth/token/")) == 1
    left = report["posts_left_due"]
    assert left in (20, 1)  # whichever of its two batches the run sent first
    assert report["posts_read"] == 23 - left
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    assert AccountRepository().get(world.tenant, seeded["public"]).status == "active"
    # And the next run reads exactly those, with no further refresh
    world.forget_calls()
    after = world.snapshot()
    assert after["posts_read"] == left
    assert all(c.status == 200 for c in world.calls)
    assert world.tiktok_calls("/oauth/token/") == []
