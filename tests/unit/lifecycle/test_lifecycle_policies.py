"""Pure refresh/schedule/upload rules: due windows, shards, continuations, event routing, S3 records."""

from __future__ import annotations

from collections import Counter

import pytest

from tiktok_publisher.domain.accounts import refresh_due_at_for, refresh_shard_for, token_lasts
from tiktok_publisher.domain.errors import InvalidInput
from tiktok_publisher.domain.media import ObjectInfo
from tiktok_publisher.domain.refresh import (
    REFRESH_TOKEN_WINDOW_S,
    ShardCursor,
    all_shards,
    due_in_sweep,
    due_on_demand,
    parse_continuation,
    shard_of,
    sweep_horizon,
    usable_while_busy,
)
from tiktok_publisher.domain.schedule import (
    MAX_AHEAD_S,
    SCHEDULE_SHARDS,
    check_publish_at,
    due_now,
    schedule_shard_for,
)
from tiktok_publisher.entrypoints.refresh import event_kind
from tiktok_publisher.entrypoints.s3_upload import object_events as parse_s3_event
from tiktok_publisher.publishing.trigger import check_declared, parse_upload_key

NOW = 1_800_000_000


def test_sweep_horizon_is_next_run_plus_margin() -> None:
    assert sweep_horizon(NOW, interval_s=300, margin_s=60) == NOW + 360


def test_sweep_due_window_boundaries() -> None:
    horizon = NOW + 600
    far = NOW + 365 * 86400
    # An access token ending is no reason for the sweep: that is refreshed on demand, before a TikTok call.
    assert not due_in_sweep(horizon - 1, far, horizon=horizon)
    assert not due_in_sweep(NOW - 86400, far, horizon=horizon)
    # The grant ends within 30 days of the horizon: due, whatever the access token.
    assert due_in_sweep(horizon + 10, horizon + REFRESH_TOKEN_WINDOW_S - 1, horizon=horizon)
    assert due_in_sweep(NOW - 5, horizon + REFRESH_TOKEN_WINDOW_S - 1, horizon=horizon)
    assert not due_in_sweep(horizon + 10, horizon + REFRESH_TOKEN_WINDOW_S, horizon=horizon)
    # Unknown grant end (0): the access token's end keeps the grant alive, as before.
    assert due_in_sweep(horizon - 1, 0, horizon=horizon)
    assert not due_in_sweep(horizon + 10, 0, horizon=horizon)


def test_a_features_need_for_a_live_token_makes_the_account_due_by_then() -> None:
    horizon = NOW + 600
    far = NOW + 365 * 86400
    expired = NOW - 3600
    # A need before the horizon that the current access token does not cover: due.
    assert due_in_sweep(expired, far, horizon=horizon, fresh_token_by=horizon - 1)
    assert not due_in_sweep(expired, far, horizon=horizon, fresh_token_by=horizon)
    # Covered (more than the on-demand margin left at that time): nothing to do.
    assert not due_in_sweep(horizon + 301, far, horizon=horizon, fresh_token_by=horizon - 1)
    assert due_in_sweep(horizon + 299, far, horizon=horizon, fresh_token_by=horizon - 1)
    assert token_lasts(NOW + 301, until=NOW)
    assert not token_lasts(NOW + 300, until=NOW)


def test_on_demand_margin_is_five_minutes() -> None:
    assert due_on_demand(NOW + 300, now=NOW)
    assert not due_on_demand(NOW + 301, now=NOW)
    assert due_on_demand(NOW - 5, now=NOW)
    assert usable_while_busy(NOW + 60, now=NOW)
    assert not usable_while_busy(NOW + 59, now=NOW)


def test_shard_assignment_matches_the_repository_and_spreads_accounts() -> None:
    counts = Counter(shard_of("tenant", f"open-{i}", 4) for i in range(4000))
    assert set(counts) == set(all_shards(4)) == {"0", "1", "2", "3"}
    assert min(counts.values()) > 800  # roughly even
    for i in range(50):
        assert shard_of("t", f"o{i}", 8) == refresh_shard_for("t", f"o{i}", 8)
    assert shard_of("t", "o", 4) == shard_of("t", "o", 4)  # stable


def test_refresh_due_at_is_30_days_before_the_grant_ends_whatever_the_access_token() -> None:
    day = 86400
    assert refresh_due_at_for(NOW + 3600, NOW + 180 * day) == NOW + 150 * day
    assert refresh_due_at_for(NOW - 3600, NOW + 180 * day) == NOW + 150 * day  # expired access: same
    assert refresh_due_at_for(NOW + 3600, NOW + 10 * day) == NOW + 10 * day - REFRESH_TOKEN_WINDOW_S
    assert refresh_due_at_for(NOW + 3600, 0) == NOW + 3600  # unknown grant end: the access token decides
    # A feature's need pulls it earlier only when the access token will not last until then.
    assert refresh_due_at_for(NOW + 3600, NOW + 180 * day, fresh_token_by=NOW + 5 * day) == NOW + 5 * day
    assert refresh_due_at_for(NOW + 3600, NOW + 180 * day, fresh_token_by=NOW + 600) == NOW + 150 * day
    assert refresh_due_at_for(NOW + 3600, NOW + 20 * day, fresh_token_by=NOW + 5 * day) < NOW
    # A refresh that left the grant inside its window (TikTok did not renew it) is not repeated every run:
    # due again only at the grant's end.
    assert refresh_due_at_for(NOW + 7200, NOW + 20 * day, refreshed_at=NOW) == NOW + 20 * day
    assert refresh_due_at_for(NOW + 7200, NOW + 180 * day, refreshed_at=NOW) == NOW + 150 * day
    # The index key and the sweep's re-check are one rule.
    for access, refresh in [(NOW + 10, NOW + 400 * day), (NOW + 90000, NOW + 20 * day), (NOW + 5, 0)]:
        due_at = refresh_due_at_for(access, refresh)
        assert due_in_sweep(access, refresh, horizon=due_at + 1)
        assert not due_in_sweep(access, refresh, horizon=due_at)


def test_continuation_from_before_the_refresh_due_at_key_restarts_the_shard() -> None:
    legacy = {
        "shard": "1",
        "horizon": NOW,
        "hop": 2,
        "after": {"access_expires_at": NOW, "tenant_id": "t", "open_id": "o"},
    }
    assert parse_continuation(legacy).cursor == ShardCursor("1")


def test_continuation_round_trip() -> None:
    cursor = ShardCursor("2", (NOW + 5, "tenant-a", "open-b"))
    parsed = parse_continuation(cursor.to_detail(horizon=NOW + 4500, hop=3))
    assert (parsed.cursor, parsed.horizon, parsed.hop) == (cursor, NOW + 4500, 3)
    fresh = parse_continuation(ShardCursor("0").to_detail(horizon=NOW, hop=1))
    assert fresh.cursor.after is None


@pytest.mark.parametrize(
    "detail",
    [
        {},
        {"shard": "x", "horizon": 1},
        {"shard": "1"},
        {"shard": "1", "horizon": 1, "after": {"tenant_id": "t"}},
    ],
)
def test_malformed_continuations_are_refused(detail: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_continuation(detail)


def test_refresh_function_event_routing() -> None:
    # Scheduled posts have their own function (DispatchFunction): the refresh function only sweeps.
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events"}
    rule = "arn:aws:events:us-east-1:123456789012:rule/tiktok-publisher-dev-"
    assert event_kind({**scheduled, "resources": [rule + "refresh-tokens"]}) == "refresh"
    assert event_kind({**scheduled, "resources": []}) == "refresh"
    assert event_kind({"detail-type": "Refresh Sweep Continuation", "detail": {}}) == "continuation"
    assert event_kind({"detail-type": "Post Published"}) == "unknown"


def test_publish_at_rules() -> None:
    assert check_publish_at(None, now=NOW) is None
    assert check_publish_at(NOW - 30, now=NOW) is None  # already reached (clock skew): publish now
    assert check_publish_at(NOW, now=NOW) is None
    assert check_publish_at(NOW + 1, now=NOW) == NOW + 1
    assert check_publish_at(NOW + 60, now=NOW) == NOW + 60
    assert check_publish_at(NOW + MAX_AHEAD_S, now=NOW) == NOW + MAX_AHEAD_S
    for bad, kind in ((NOW - 3600, "in_past"), (NOW + MAX_AHEAD_S + 1, "too_far")):
        with pytest.raises(InvalidInput) as caught:
            check_publish_at(bad, now=NOW)
        assert caught.value.details["fields"][0]["type"] == kind  # type: ignore[index]
    assert due_now(NOW, now=NOW)
    assert not due_now(NOW + 1, now=NOW)
    assert due_now(None, now=NOW)


def test_schedule_shards_are_stable_and_in_range() -> None:
    shards = {schedule_shard_for("t", f"p{i}") for i in range(200)}
    assert shards == {str(i) for i in range(SCHEDULE_SHARDS)}
    assert schedule_shard_for("t", "p1") == schedule_shard_for("t", "p1")


def _s3_record(key: str, **obj: object) -> dict[str, object]:
    return {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "media"}, "object": {"key": key, "size": 10, "eTag": "e1", **obj}},
    }


def test_s3_records_are_url_decoded_and_identified_by_version_then_sequencer() -> None:
    event = {
        "Records": [
            _s3_record("uploads/t/o/u/my+clip%281%29.mp4", versionId="v9", sequencer="0A"),
            _s3_record("uploads/t/o/u/a.mp4", sequencer="0B"),
            _s3_record("uploads/t/o/u/b.mp4"),
            {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "m"}, "object": {"key": "k"}}},
        ]
    }
    parsed = parse_s3_event(event)
    assert [p.key for p in parsed] == [
        "uploads/t/o/u/my clip(1).mp4",
        "uploads/t/o/u/a.mp4",
        "uploads/t/o/u/b.mp4",
    ]
    assert [p.event_id for p in parsed] == [
        "media/uploads/t/o/u/my clip(1).mp4#v9",
        "media/uploads/t/o/u/a.mp4#0B",
        "media/uploads/t/o/u/b.mp4#e1",
    ]
    assert parse_s3_event({"Event": "s3:TestEvent"}) == []


def test_upload_keys() -> None:
    parts = parse_upload_key("uploads/tenant-a/open-1/01ABC-def/clip.mp4")
    assert parts is not None
    assert (parts.tenant_id, parts.open_id, parts.upload_id) == (
        "tenant-a",
        "open-1",
        "01ABC-def",
    )
    for key in (
        "uploads/t/o/clip.mp4",
        "media/t/o/u/clip.mp4",
        "uploads/t/o/u/x/clip.mp4",
        "uploads/t/../u/c.mp4",
    ):
        assert parse_upload_key(key) is None


def test_declared_size_and_type_are_checked() -> None:
    ok = ObjectInfo("k", 1000, "video/mp4", {"declared-size": "1000"})
    assert check_declared(ok) is None
    size = check_declared(ObjectInfo("k", 999, "video/mp4", {"declared-size": "1000"}))
    assert size is not None
    assert size[0] == "size_mismatch"
    kind = check_declared(ObjectInfo("k", 1000, "image/jpeg", {"declared-size": "1000"}))
    assert kind is not None
    assert kind[0] == "unsupported_type"
