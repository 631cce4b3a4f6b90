"""GET /v1/posts/{post_id}/metrics and GET /v1/accounts/{open_id}/stats in-process against moto and the
emulator: a published post's video id is a string end to end, its counts are TikTok's, TikTok is asked at most
once per interval, and every refusal says what to do."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.integration.metrics.conftest import (
    ACCOUNT_INTERVAL,
    COUNTS,
    INTERVAL,
    STATS,
    MetricsWorld,
    bracketed,
)
from tests.media import make_mp4

ALL = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
]
WITHOUT_METRICS = ["user.info.basic", "user.info.profile", "video.publish", "video.upload"]
HOUR = 3600


def _publish_public(world: MetricsWorld, open_id: str, **post_info: Any) -> dict[str, Any]:
    """A direct PUBLIC_TO_EVERYONE post through the product: upload, POST /v1/posts, the worker."""
    ticket = world.upload(make_mp4(duration_s=3.0), open_id)
    answer = world.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "metrics #test", **post_info},
        }
    )
    assert answer.status == 202, answer.body
    assert world.run_worker() == 0
    return world.post(answer.body["post_id"])


def test_a_published_post_has_its_video_id_as_a_string_and_counts_from_tiktok(world: MetricsWorld) -> None:
    # Given a public post published through the product, a few hours old at TikTok
    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    assert post["status"] == "published", post
    (video_id,) = post["post_ids"]
    assert isinstance(video_id, str)
    assert re.fullmatch(r"\d{19}", video_id)
    assert int(video_id) > 2**53  # a float would have rounded it
    world.advance(6 * HOUR)
    world.forget_calls()

    # When the SaaS asks for its metrics
    before = world.emulator_counts()[video_id]
    answer = world.metrics(f"/v1/posts/{post['post_id']}/metrics")
    after = world.emulator_counts()[video_id]

    # Then the counts are what TikTok answered for that video just now, and the id is still the exact string
    assert answer.status == 200, answer.body
    body = answer.body
    counts = {c: body[c] for c in COUNTS}
    assert counts == world.answered_counts()[video_id]
    assert bracketed(before, counts, after)
    assert body["view_count"] > 0
    assert body["video_ids"] == [video_id]
    assert body["videos"] == [{"video_id": video_id, **counts}]
    assert body["fresh"] is True
    assert body["read_at"].endswith("Z")
    raw = world.raw_metrics(f"/v1/posts/{post['post_id']}/metrics")
    assert f'"{video_id}"' in raw  # quoted: a JSON number would be rounded by JavaScript
    assert not re.search(rf"[\[:,]\s*{video_id}\b", raw)
    # And TikTok was asked once, with the id as a string, by the video query
    (query,) = world.tiktok_calls("/v2/video/query/")
    assert query.status == 200
    assert f'"{video_id}"' in query.body or str(video_id) in query.body

    # And the post itself now shows that reading
    shown = world.post(post["post_id"])
    assert shown["metrics"]["view_count"] == body["view_count"]
    assert shown["metrics"]["videos"][0]["video_id"] == video_id


def test_tiktok_is_asked_at_most_once_per_interval(world: MetricsWorld) -> None:
    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    world.advance(HOUR)
    world.forget_calls()
    path = f"/v1/posts/{post['post_id']}/metrics"

    first = world.metrics(path).body
    world.advance(INTERVAL - 60)
    again = world.metrics(path).body
    # Within the interval: the stored reading, no new call to TikTok
    assert again["fresh"] is False
    assert again["read_at"] == first["read_at"]
    assert again["view_count"] == first["view_count"]
    assert again["next_read_at"] == first["next_read_at"]
    assert len(world.tiktok_calls("/v2/video/query/")) == 1

    # After it: read again, the counts have grown (or stayed: they never decrease)
    world.advance(120)
    later = world.metrics(path).body
    assert later["fresh"] is True
    assert later["view_count"] >= first["view_count"]
    assert later["view_count"] == world.answered_counts()[post["post_ids"][0]]["view_count"]
    assert len(world.tiktok_calls("/v2/video/query/")) == 2

    # And each read from TikTok is a point of the history, oldest first
    history = world.metrics(f"{path}/history").body
    assert [p["view_count"] for p in history["points"]] == [first["view_count"], later["view_count"]]
    assert history["next_since"] is None
    page = world.metrics(f"{path}/history", query={"limit": "1"}).body
    assert len(page["points"]) == 1
    rest = world.metrics(f"{path}/history", query={"since": str(page["next_since"])}).body
    assert [p["at"] for p in page["points"] + rest["points"]] == [p["at"] for p in history["points"]]


def test_a_video_id_that_comes_after_publication_is_resolved_from_the_status_answer(
    world: MetricsWorld,
) -> None:
    # Given TikTok's review giving the public id ten minutes after PUBLISH_COMPLETE (no webhook reaches us)
    world.emulator.configure(moderation_delay=600)
    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    assert post["status"] == "published"
    assert post["post_ids"] == []
    world.forget_calls()
    path = f"/v1/posts/{post['post_id']}/metrics"

    # When the metrics are asked for before the review: TikTok's status has no id yet
    pending = world.metrics(path)
    assert pending.status == 409, pending.body
    assert pending.body["error"]["code"] == "video_id_pending"
    assert pending.body["error"]["details"]["next_read_at"]
    assert [c.path for c in world.tiktok_calls("/v2/")] == ["/v2/post/publish/status/fetch/"]

    # Then after the review and the interval, the id comes from the status answer, stored as a string
    world.advance(INTERVAL)
    answer = world.metrics(path)
    assert answer.status == 200, answer.body
    (video_id,) = answer.body["video_ids"]
    (public,) = world.emulator.videos()
    assert video_id == str(public["id"])
    assert world.post(post["post_id"])["post_ids"] == [video_id]
    assert answer.body["view_count"] == world.answered_counts()[video_id]["view_count"]


def test_account_stats_come_from_user_info(world: MetricsWorld) -> None:
    open_id = world.connect_with("creator_public", ALL)
    world.advance(3 * 86400)  # followers grow a little every day
    world.forget_calls()

    before = world.emulator_stats("creator_public")
    answer = world.metrics(f"/v1/accounts/{open_id}/stats")
    after = world.emulator_stats("creator_public")

    assert answer.status == 200, answer.body
    assert bracketed(before, {k: answer.body[k] for k in STATS}, after)
    assert answer.body["follower_count"] > 0
    assert answer.body["fresh"] is True
    (call,) = world.tiktok_calls("/v2/user/info/")
    assert "follower_count" in call.body
    # Within the account interval: the stored reading
    world.advance(ACCOUNT_INTERVAL - 60)
    again = world.metrics(f"/v1/accounts/{open_id}/stats").body
    assert again["fresh"] is False
    assert again["follower_count"] == answer.body["follower_count"]
    assert len(world.tiktok_calls("/v2/user/info/")) == 1
    history = world.metrics(f"/v1/accounts/{open_id}/stats/history").body
    assert [p["follower_count"] for p in history["points"]] == [answer.body["follower_count"]]


def test_an_account_connected_without_the_metrics_scopes_is_told_to_reconnect(world: MetricsWorld) -> None:
    # Given an account connected before metrics were enabled (no video.list, no user.info.stats)
    open_id = world.connect_with("creator_public", WITHOUT_METRICS)
    (publish_id, video_id) = world.public_video_at_tiktok("creator_public")
    post_id = world.published_post(open_id, publish_id, [video_id])
    world.forget_calls()

    # Then both reads answer 409 reconnect_to_grant naming the missing scope, without asking TikTok
    post = world.metrics(f"/v1/posts/{post_id}/metrics")
    assert post.status == 409, post.body
    assert post.body["error"]["code"] == "reconnect_to_grant"
    assert post.body["error"]["details"]["missing_scopes"] == ["video.list"]
    assert "Connect it again" in post.body["error"]["message"]
    stats = world.metrics(f"/v1/accounts/{open_id}/stats")
    assert stats.status == 409
    assert stats.body["error"]["code"] == "reconnect_to_grant"
    assert stats.body["error"]["details"]["missing_scopes"] == ["user.info.stats"]
    assert world.tiktok_calls() == []

    # When the user reconnects granting them, the same reads work
    world.connect_with("creator_public", ALL)
    assert world.metrics(f"/v1/posts/{post_id}/metrics").status == 200
    assert world.metrics(f"/v1/accounts/{open_id}/stats").status == 200


def test_posts_without_counts_are_refused_with_a_reason(world: MetricsWorld) -> None:
    open_id = world.connect_with("creator_public", ALL)
    private = _publish_public(world, open_id, privacy_level="SELF_ONLY")
    assert private["status"] == "published"
    answer = world.metrics(f"/v1/posts/{private['post_id']}/metrics")
    assert answer.status == 409
    assert answer.body["error"]["code"] == "post_not_public"

    waiting = world.api(
        "POST",
        "/v1/uploads",
        body={"open_id": open_id, "filename": "later.mp4", "content_type": "video/mp4", "size": 1000},
    ).body
    created = world.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": waiting["upload_id"]},
            "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE"},
        }
    ).body
    answer = world.metrics(f"/v1/posts/{created['post_id']}/metrics")
    assert answer.status == 409
    assert answer.body["error"]["code"] == "post_not_published"
    assert answer.body["error"]["details"]["status"] == "awaiting_upload"


def test_another_tenants_ids_are_not_found(world: MetricsWorld) -> None:
    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    world.metrics(f"/v1/posts/{post['post_id']}/metrics")
    world.forget_calls()
    for path in (
        f"/v1/posts/{post['post_id']}/metrics",
        f"/v1/posts/{post['post_id']}/metrics/history",
        f"/v1/accounts/{open_id}/stats",
        f"/v1/accounts/{open_id}/stats/history",
    ):
        answer = world.metrics(path, tenant="tenant-intruder")
        assert answer.status == 404, (path, answer.body)
        assert answer.body["error"]["code"] == "not_found"
    assert world.tiktok_calls() == []


def test_bad_query_parameters_are_refused_with_their_path(world: MetricsWorld) -> None:
    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    for query in ({"limit": "0"}, {"limit": "100000"}, {"since": "-1"}, {"since": "yesterday"}):
        answer = world.metrics(f"/v1/posts/{post['post_id']}/metrics/history", query=query)
        assert answer.status == 422, (query, answer.body)
        (field,) = answer.body["error"]["details"]["fields"]
        assert field["path"] == f"query.{next(iter(query))}"
    answer = world.metrics("/v1/posts/not-a-post-id/metrics")
    assert answer.status == 422


def test_tiktok_failing_keeps_the_claim_and_a_refusal_gives_it_back(world: MetricsWorld) -> None:
    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    path = f"/v1/posts/{post['post_id']}/metrics"
    world.forget_calls()

    # TikTok answers 5xx on every try: 502, nothing stored, and TikTok is left alone for the interval
    world.emulator.fault("video_query", "5xx", status=503, count=3)
    failed = world.metrics(path)
    assert failed.status == 502, failed.body
    assert failed.body["error"]["code"] == "upstream_error"
    assert failed.body["error"]["details"]["tiktok_code"] == "internal_error"
    tries = len(world.tiktok_calls("/v2/video/query/"))
    pending = world.metrics(path)
    assert pending.status == 409
    assert pending.body["error"]["code"] == "metrics_pending"
    assert len(world.tiktok_calls("/v2/video/query/")) == tries

    # After the interval, a rate limit answer (a call TikTok did not serve) gives the claim back at once
    world.advance(INTERVAL)
    world.emulator.fault("video_query", "429", count=3)
    limited = world.metrics(path)
    assert limited.status == 502
    assert limited.body["error"]["details"]["tiktok_code"] == "rate_limit_exceeded"
    answer = world.metrics(path)
    assert answer.status == 200, answer.body
    assert answer.body["fresh"] is True

    # A 200 carrying an error (TikTok's habit) is an error too
    world.advance(INTERVAL)
    world.emulator.fault("video_query", "error200", code="internal_error", count=3)
    assert world.metrics(path).status == 502
    assert world.metrics(path).body["fresh"] is False  # the last good reading stays


def test_tiktok_resetting_or_garbling_the_stats_answer_is_a_502_and_nothing_is_stored(
    world: MetricsWorld,
) -> None:
    open_id = world.connect_with("creator_public", ALL)
    path = f"/v1/accounts/{open_id}/stats"
    world.emulator.fault("user_info", "reset", count=3)  # the connection closes without an answer, each try
    reset = world.metrics(path)
    assert reset.status == 502, reset.body
    assert reset.body["error"]["details"]["tiktok_code"] == "transport"
    world.advance(ACCOUNT_INTERVAL)
    world.emulator.fault("user_info", "error200", code="internal_error", count=3)
    garbled = world.metrics(path)
    assert garbled.status == 502
    assert world.metrics(path).body["error"]["code"] == "metrics_pending"  # nothing stored, claim kept
    assert world.metrics(f"{path}/history").body["points"] == []


def test_metrics_disabled_by_the_operator_answer_403(world: MetricsWorld, monkeypatch: Any) -> None:
    from tiktok_publisher import bootstrap, config

    open_id = world.connect_with("creator_public", ALL)
    monkeypatch.setenv("METRICS_ENABLED", "false")
    config.reset_caches()
    bootstrap.reset()
    for path in (f"/v1/accounts/{open_id}/stats", f"/v1/accounts/{open_id}/stats/history"):
        answer = world.metrics(path)
        assert answer.status == 403, answer.body
        assert answer.body["error"]["code"] == "metrics_disabled"


def test_metrics_answers_hold_no_token(world: MetricsWorld) -> None:
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    open_id = world.connect_with("creator_public", ALL)
    post = _publish_public(world, open_id)
    access, refresh = AccountRepository().get_tokens(world.tenant, open_id)
    bodies = [
        json.dumps(world.metrics(p).body)
        for p in (
            f"/v1/posts/{post['post_id']}/metrics",
            f"/v1/posts/{post['post_id']}/metrics/history",
            f"/v1/accounts/{open_id}/stats",
        )
    ]
    for body in bodies:
        assert access not in body
        assert refresh not in body


def test_stats_after_tiktok_ended_the_token_early_come_with_one_forced_refresh(world: MetricsWorld) -> None:
    # Given an account whose access token TikTok ends before its stated expiry (the refresh token still works)
    open_id = world.connect_with("creator_public", ALL)
    world.forget_calls()
    assert world.emulator.expire_access_token(account="creator_public") >= 1

    answer = world.metrics(f"/v1/accounts/{open_id}/stats")

    # Then one refusal, one refresh of exactly that token, one more user info: the counts, account active
    assert answer.status == 200, answer.body
    assert answer.body["follower_count"] > 0
    assert [c.status for c in world.tiktok_calls("/v2/user/info/")] == [401, 200]
    assert len(world.tiktok_calls("/oauth/token/")) == 1
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    assert AccountRepository().get(world.tenant, open_id).status == "active"
