"""§2/§3: user info fields gated by scope, the v2 envelope, log ids, token errors, 600/min."""

from __future__ import annotations

from collections.abc import Callable

import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT, Api, error_code


def test_basic_fields_in_envelope(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    response = api("creator_public", ["user.info.basic"]).user_info(
        "open_id,union_id,avatar_url,display_name"
    )
    body = response.json()
    assert response.status_code == 200
    assert body["error"]["code"] == "ok"
    assert body["error"]["message"] == ""
    assert body["error"]["log_id"] == response.headers["x-tt-logid"]
    user = body["data"]["user"]
    assert set(user) == {"open_id", "union_id", "avatar_url", "display_name"}
    assert user["open_id"] == emulator.emulator.account("creator_public").open_id


def test_profile_field_without_scope_is_scope_permission_missed(api: Callable[..., Api]) -> None:
    response = api("creator_public", ["user.info.basic"]).user_info("open_id,username")
    assert response.status_code == 400
    assert error_code(response) == "scope_permission_missed"
    assert "data" not in response.json() or not response.json()["data"]
    assert response.json()["error"]["log_id"]


def test_profile_and_stats_fields_with_scopes(api: Callable[..., Api]) -> None:
    client = api("creator_public", ["user.info.basic", "user.info.profile", "user.info.stats"])
    user = client.user_info("username,is_verified,bio_description,follower_count,video_count").json()["data"][
        "user"
    ]
    assert user["username"] == "creator_public"
    assert user["follower_count"] == 1200


def test_stats_field_without_scope(api: Callable[..., Api]) -> None:
    response = api("creator_public", ["user.info.basic", "user.info.profile"]).user_info("follower_count")
    assert (response.status_code, error_code(response)) == (400, "scope_permission_missed")


def test_unknown_or_missing_fields_are_invalid_params(api: Callable[..., Api]) -> None:
    client = api()
    assert error_code(client.user_info("open_id,password")) == "invalid_params"
    assert client.user_info("").status_code == 400


def test_token_errors_are_access_token_invalid_401(emulator: EmulatorHandle) -> None:
    url = f"{emulator.base_url}/v2/user/info/?fields=open_id"
    for headers in ({}, {"Authorization": "Bearer act.unknown"}, {"Authorization": "Basic abc"}):
        response = requests.get(url, headers=headers, timeout=TIMEOUT)
        assert (response.status_code, error_code(response)) == (401, "access_token_invalid")
        assert response.headers["x-tt-logid"] == response.json()["error"]["log_id"]


def test_log_ids_are_unique(api: Callable[..., Api]) -> None:
    client = api()
    ids = {client.user_info("open_id").headers["x-tt-logid"] for _ in range(5)}
    assert len(ids) == 5


def test_rate_limit_600_per_minute(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api()
    session = requests.Session()
    url = f"{emulator.base_url}/v2/user/info/?fields=open_id"
    statuses = [session.get(url, headers=client.headers, timeout=TIMEOUT).status_code for _ in range(601)]
    assert statuses[:600] == [200] * 600
    assert statuses[600] == 429
    response = client.user_info("open_id")
    assert error_code(response) == "rate_limit_exceeded"
    # Per token: another token of the same user is not limited; the window slides with the clock.
    assert api().user_info("open_id").status_code == 200
    emulator.advance(61)
    assert client.user_info("open_id").status_code == 200
