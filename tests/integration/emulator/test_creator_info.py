"""§4 creator_info: per-account options and flags, quota answers with HTTP 200, scope, 20/min."""

from __future__ import annotations

from collections.abc import Callable

from tiktok_emulator.testing import EmulatorHandle

from .conftest import Api, error_code

KEYS = {
    "creator_avatar_url",
    "creator_username",
    "creator_nickname",
    "privacy_level_options",
    "comment_disabled",
    "duet_disabled",
    "stitch_disabled",
    "max_video_post_duration_sec",
}


def test_public_account(api: Callable[..., Api]) -> None:
    response = api("creator_public").creator_info()
    data = response.json()["data"]
    assert response.status_code == 200
    assert set(data) == KEYS
    assert data["privacy_level_options"] == ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert data["creator_username"] == "creator_public"
    assert (data["comment_disabled"], data["duet_disabled"], data["stitch_disabled"]) == (False, False, False)
    assert data["max_video_post_duration_sec"] == 600


def test_private_account(api: Callable[..., Api]) -> None:
    data = api("creator_private").creator_info().json()["data"]
    assert data["privacy_level_options"] == ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert (data["duet_disabled"], data["stitch_disabled"]) == (True, True)
    assert data["max_video_post_duration_sec"] == 300


def test_comment_disabled_account(api: Callable[..., Api]) -> None:
    data = api("creator_nocomments").creator_info().json()["data"]
    assert data["comment_disabled"] is True
    assert data["max_video_post_duration_sec"] == 180


def test_banned_account_answers_200_with_code(api: Callable[..., Api]) -> None:
    response = api("creator_banned").creator_info()
    assert response.status_code == 200
    assert error_code(response) == "spam_risk_user_banned_from_posting"


def test_daily_cap_answers_200_with_code(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(daily_post_cap=2, access_ttl=10**8)
    client = api("creator_private")
    for _ in range(2):
        assert client.init_direct().status_code == 200
    response = client.creator_info()
    assert (response.status_code, error_code(response)) == (200, "spam_risk_too_many_posts")
    emulator.advance(86401)
    assert error_code(client.creator_info()) == "ok"


def test_active_user_cap_answers_200_with_code(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(active_user_cap=1)
    assert api("creator_private").init_inbox().status_code == 200
    response = api("creator_public").creator_info()
    assert (response.status_code, error_code(response)) == (200, "reached_active_user_cap")
    assert error_code(api("creator_private").creator_info()) == "ok"


def test_requires_video_publish_scope(api: Callable[..., Api]) -> None:
    response = api("creator_public", ["user.info.basic", "video.upload"]).creator_info()
    assert (response.status_code, error_code(response)) == (401, "scope_not_authorized")


def test_rate_limit_20_per_minute(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_public")
    assert [client.creator_info().status_code for _ in range(20)] == [200] * 20
    response = client.creator_info()
    assert (response.status_code, error_code(response)) == (429, "rate_limit_exceeded")
    emulator.advance(60)
    assert client.creator_info().status_code == 200
