"""After the post, pure parts: which posts can have counts, readings, batches of 20 ids, the per-run budget,
retry verdicts and the attempts a post shows, int64 ids through the client's parser, the settings' bounds and
the scopes the connect flow asks for."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tiktok_publisher.adapters.tiktok_client import parse_v2_answer
from tiktok_publisher.config import ConfigError, Settings
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES, missing_scopes, requested_scopes
from tiktok_publisher.domain import metrics
from tiktok_publisher.domain.posts import (
    MAX_ATTEMPTS,
    Post,
    PostStatus,
    attempts_view,
    ended_attempt,
    retry_verdict,
    retry_view,
)
from tiktok_publisher.domain.tiktok import UserStats, VideoStats
from tiktok_publisher.metrics.snapshots import _id_batches

BIG_ID = "7312345678901234567"  # above 2**53: a float rounds it


def _post(**fields: object) -> Post:
    base: dict[str, object] = {
        "tenant_id": "t",
        "post_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "open_id": "o",
        "created_at": "2026-01-01T00:00:00.000Z",
        "mode": "direct",
        "media": "video",
        "status": PostStatus.PUBLISHED,
    }
    base.update(fields)
    return Post(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "privacy", "ids", "expected"),
    [
        ("direct", "PUBLIC_TO_EVERYONE", [], True),
        ("direct", "SELF_ONLY", [], False),
        ("direct", "MUTUAL_FOLLOW_FRIENDS", [], False),
        ("direct", "SELF_ONLY", [BIG_ID], True),  # TikTok gave it an id: it is public now
        ("inbox", None, [], True),  # the creator chose the audience in the app
    ],
)
def test_which_published_posts_may_have_counts(
    mode: str, privacy: str | None, ids: list[str], expected: bool
) -> None:
    info = {"privacy_level": privacy} if privacy else {}
    assert metrics.may_have_public_video(mode, info, ids) is expected


def test_a_reading_sums_the_videos_and_keeps_their_ids_as_text() -> None:
    videos = [
        VideoStats(id=BIG_ID, view_count=10, like_count=2, comment_count=1, share_count=0),
        VideoStats(id="7312345678901234569", view_count=5, like_count=1, comment_count=0, share_count=3),
    ]
    reading = metrics.post_reading(videos, read_at=1000)
    assert reading["view_count"] == 15
    assert reading["share_count"] == 3
    assert [v["video_id"] for v in reading["videos"]] == [BIG_ID, "7312345678901234569"]
    assert metrics.counts_of(metrics.ItemKind.POST, reading) == {
        "view_count": 15,
        "like_count": 3,
        "comment_count": 1,
        "share_count": 3,
    }
    stats = metrics.account_reading(UserStats(follower_count=7, video_count=2), read_at=5)
    assert stats == {
        "read_at": 5,
        "follower_count": 7,
        "following_count": 0,
        "likes_count": 0,
        "video_count": 2,
    }


def test_history_points_are_keyed_by_tenant_and_expire_after_the_history_period() -> None:
    policy = metrics.MetricsPolicy(enabled=True, history_s=86400)
    point = metrics.history_point(policy, "tenant-a", metrics.ItemKind.ACCOUNT, "open-1", {"read_at": 100})
    assert point.series == "tenant-a#account#open-1"
    assert (point.at, point.expires_at) == (100, 100 + 86400)


@given(st.integers(min_value=0, max_value=200))
def test_batches_hold_at_most_twenty_in_order(count: int) -> None:
    items = list(range(count))
    chunks = list(metrics.batches(items))
    assert all(1 <= len(c) <= metrics.MAX_IDS_PER_QUERY for c in chunks)
    assert [i for c in chunks for i in c] == items


def test_id_batches_fit_one_video_query_even_with_several_ids_per_post() -> None:
    items = [(_post(post_id=str(n)), [f"{n}{k}" for k in range(n % 3 + 1)], False) for n in range(30)]
    batches = _id_batches(items)
    assert all(sum(len(ids) for _, ids, _ in batch) <= 20 for batch in batches)
    assert [p.post_id for batch in batches for p, _, _ in batch] == [str(n) for n in range(30)]


def test_a_run_spends_a_quarter_of_tiktoks_per_token_limits() -> None:
    assert metrics.run_budget("video_query") == 150
    assert metrics.run_budget("user_info") == 150
    assert metrics.run_budget("status") == 7


def test_due_and_window() -> None:
    assert metrics.is_due(None, 10)
    assert metrics.is_due(10, 10)
    assert not metrics.is_due(11, 10)
    assert not metrics.window_over(None, 10**9, 60)
    assert not metrics.window_over(100, 160, 60)
    assert metrics.window_over(100, 161, 60)


def test_shards_are_stable_and_in_range() -> None:
    shards = {metrics.metrics_shard_for("t", f"p{n}") for n in range(200)}
    assert shards == {str(n) for n in range(metrics.METRICS_SHARDS)}
    assert metrics.metrics_shard_for("t", "p1") == metrics.metrics_shard_for("t", "p1")


# ---------------------------------------------------------------------- int64 ids through the client's parser


@pytest.mark.parametrize("written", [BIG_ID, f'"{BIG_ID}"'])
def test_a_video_id_as_a_raw_number_or_a_string_stays_exact(written: str) -> None:
    body = (
        '{"data":{"videos":[{"id":' + written + ',"view_count":12,"like_count":1,"comment_count":0,'
        '"share_count":0}],"cursor":0,"has_more":false},"error":{"code":"ok","message":"","log_id":"x"}}'
    ).encode()
    data = parse_v2_answer("video_query", 200, {}, body, exact_ints=True)
    video = VideoStats.model_validate(data["videos"][0])
    assert video.id == BIG_ID
    assert video.view_count == 12
    assert float(BIG_ID) != int(BIG_ID)  # what a float would have made of it


def test_a_video_id_that_went_through_a_float_is_refused() -> None:
    rounded = json.dumps({"id": float(BIG_ID), "view_count": 1})
    with pytest.raises(ValidationError):
        VideoStats.model_validate(json.loads(rounded))
    with pytest.raises(ValidationError):
        VideoStats.model_validate({"id": "7.3e18", "view_count": 1})
    with pytest.raises(ValidationError):
        VideoStats.model_validate({"id": BIG_ID, "view_count": -1})


# ---------------------------------------------------------------------- retry and attempts


@pytest.mark.parametrize(
    ("error_class", "allowed"),
    [
        ("retry", True),
        ("quota", True),
        ("reconnect", True),
        ("fix_media", False),
        ("app_not_audited", False),
        ("invalid_request", False),
        ("cancelled", False),
        ("unknown", False),
        ("something new", False),
    ],
)
def test_a_failed_post_may_be_retried_by_failure_class(error_class: str, allowed: bool) -> None:
    post = _post(status=PostStatus.FAILED, fail_reason={"class": error_class, "code": "x"})
    verdict = retry_verdict(post)
    assert verdict.allowed is allowed
    assert verdict.code == ("retry_allowed" if allowed else "post_not_retryable")
    assert verdict.reason


def test_unconfirmed_and_other_statuses_are_never_retried() -> None:
    unconfirmed = retry_verdict(_post(status=PostStatus.UNCONFIRMED))
    assert (unconfirmed.allowed, unconfirmed.code) == (False, "post_unconfirmed")
    assert "never sent again" in unconfirmed.reason
    for status in (PostStatus.PUBLISHED, PostStatus.QUEUED, PostStatus.SCHEDULED, PostStatus.CANCELLED):
        assert retry_verdict(_post(status=status)).allowed is False
        assert retry_view(_post(status=status)) is None
    assert retry_view(_post(status=PostStatus.UNCONFIRMED))["code"] == "post_unconfirmed"  # type: ignore[index]


def test_a_post_has_at_most_max_attempts() -> None:
    past = [
        {"number": n, "status": "failed", "started_at": "a", "ended_at": "b"} for n in range(MAX_ATTEMPTS - 1)
    ]
    verdict = retry_verdict(
        _post(status=PostStatus.FAILED, fail_reason={"class": "retry"}, past_attempts=past)
    )
    assert (verdict.allowed, verdict.code) == (False, "too_many_attempts")


def test_attempts_show_the_failed_ones_then_the_current_one() -> None:
    failed = _post(
        status=PostStatus.FAILED,
        publish_id="p-1",
        transfer="upload",
        fail_reason={"class": "quota", "code": "spam_risk_too_many_posts", "log_id": None},
        updated_at="2026-01-01T01:00:00.000Z",
    )
    record = ended_attempt(failed, ended_at="2026-01-02T00:00:00.000Z")
    assert record["number"] == 1
    assert record["publish_id"] == "p-1"
    assert record["started_at"] == failed.created_at
    assert None not in record.values()
    retried = _post(status=PostStatus.QUEUED, past_attempts=[record])
    first, current = attempts_view(retried)
    assert first["status"] == "failed"
    assert current == {
        "number": 2,
        "status": "queued",
        "publish_id": None,
        "transfer": None,
        "error": None,
        "started_at": "2026-01-02T00:00:00.000Z",
        "ended_at": None,
    }


# ---------------------------------------------------------------------- settings and scopes


def test_metrics_settings_are_read_and_bounded() -> None:
    settings = Settings.from_env(
        {"METRICS_ENABLED": "true", "METRICS_POST_INTERVAL_S": "900", "METRICS_HISTORY_DAYS": "30"}
    )
    assert settings.metrics_enabled is True
    assert settings.metrics_post_interval_s == 900
    assert settings.metrics_history_days == 30
    assert Settings.from_env({}).metrics_enabled is False
    for name, value in (("METRICS_POST_INTERVAL_S", "10"), ("METRICS_POST_WINDOW_DAYS", "0")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})


def test_the_connect_flow_asks_for_the_metrics_scopes_only_when_enabled() -> None:
    assert requested_scopes(None) == list(DEFAULT_SCOPES)
    with_metrics = requested_scopes(None, metrics=True)
    assert with_metrics == [*DEFAULT_SCOPES, "video.list", "user.info.stats"]
    # They are optional grants: an account without them still connects (and is told to reconnect for them)
    assert missing_scopes([s for s in with_metrics if s not in metrics.METRICS_SCOPES]) == []
