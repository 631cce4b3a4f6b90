"""§4/§6 init endpoints: validation, scopes, privacy options, unaudited rules, caps, 6/min."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tiktok_emulator.config import TestAccount
from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT, Api, error_code, file_source

VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
PHOTO_INIT = "/v2/post/publish/content/init/"


def expect(response: requests.Response, status: int, code: str) -> None:
    assert (response.status_code, error_code(response)) == (status, code), response.text


def test_direct_init_returns_publish_id_and_upload_url(api: Callable[..., Api]) -> None:
    response = api("creator_private").init_direct("SELF_ONLY")
    expect(response, 200, "ok")
    data = response.json()["data"]
    assert 0 < len(data["publish_id"]) <= 64
    assert data["upload_url"].startswith("http")


def test_json_content_type_required(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    body = '{"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": "PULL_FROM_URL"}}'
    response = requests.post(
        f"{emulator.base_url}{VIDEO_INIT}",
        data=body,
        headers={**client.headers, "Content-Type": "text/plain"},
        timeout=TIMEOUT,
    )
    expect(response, 400, "invalid_params")
    charset = {**client.headers, "Content-Type": "application/json; charset=UTF-8"}
    body = (
        '{"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": '
        + str(file_source(10)).replace("'", '"')
        + "}"
    )
    ok = requests.post(f"{emulator.base_url}{VIDEO_INIT}", data=body, headers=charset, timeout=TIMEOUT)
    expect(ok, 200, "ok")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"post_info": {"title": "x"}, "source_info": file_source(10)},
        {"post_info": {"privacy_level": "SELF_ONLY"}},
        {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": "CARRIER_PIGEON"}},
        {"post_info": {"privacy_level": "SELF_ONLY", "title": "😀" * 1101}, "source_info": file_source(10)},
        {"post_info": {"privacy_level": "SELF_ONLY", "disable_duet": "yes"}, "source_info": file_source(10)},
        {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": "PULL_FROM_URL"}},
        {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": file_source(10, 5)},
    ],
)
def test_invalid_params(api: Callable[..., Api], body: dict) -> None:
    expect(api("creator_private").post(VIDEO_INIT, body), 400, "invalid_params")


def test_title_counts_utf16_units(api: Callable[..., Api]) -> None:
    client = api("creator_private")
    expect(client.init_direct(title="😀" * 1100), 200, "ok")  # 2200 UTF-16 units
    expect(client.init_direct(title="a" * 2201), 400, "invalid_params")


def test_scopes_video_publish_vs_video_upload(api: Callable[..., Api]) -> None:
    upload_only = api("creator_private", ["user.info.basic", "video.upload"])
    expect(upload_only.init_direct(), 401, "scope_not_authorized")
    expect(upload_only.init_inbox(), 200, "ok")
    publish_only = api("creator_private", ["user.info.basic", "video.publish"])
    expect(publish_only.init_inbox(), 401, "scope_not_authorized")
    expect(publish_only.init_direct(), 200, "ok")


def test_privacy_must_be_one_of_the_options(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    expect(api("creator_private").init_direct("PUBLIC_TO_EVERYONE"), 403, "privacy_level_option_mismatch")
    emulator.configure(audited=True)
    expect(api("creator_public").init_direct("FOLLOWER_OF_CREATOR"), 403, "privacy_level_option_mismatch")
    expect(api("creator_public").init_direct("PUBLIC_TO_EVERYONE"), 200, "ok")


def test_unaudited_needs_self_only_and_a_private_account(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    assert emulator.config.audited is False
    code = "unaudited_client_can_only_post_to_private_accounts"
    expect(api("creator_public").init_direct("SELF_ONLY"), 403, code)
    expect(api("creator_public").init_direct("PUBLIC_TO_EVERYONE"), 403, code)
    expect(api("creator_private").init_direct("MUTUAL_FOLLOW_FRIENDS"), 403, code)
    expect(api("creator_private").init_direct("SELF_ONLY"), 200, "ok")


def test_unaudited_at_most_five_posting_users(emulator: EmulatorHandle) -> None:
    accounts = [TestAccount(f"user{i}", private=True) for i in range(6)]
    emulator.configure(accounts=[vars(a) for a in accounts], access_ttl=10**8)
    clients = [Api(emulator.base_url, emulator.issue_token(a.name)["access_token"]) for a in accounts]
    for client in clients[:5]:
        expect(client.init_direct(), 200, "ok")
    expect(clients[5].init_direct(), 403, "reached_active_user_cap")
    expect(clients[5].init_inbox(), 403, "reached_active_user_cap")
    expect(clients[0].init_direct(), 200, "ok")  # already active users keep posting
    emulator.advance(86401)
    expect(clients[5].init_direct(), 200, "ok")


def test_audited_app_has_no_active_user_cap_by_default(emulator: EmulatorHandle) -> None:
    accounts = [TestAccount(f"user{i}") for i in range(7)]
    emulator.configure(accounts=[vars(a) for a in accounts], audited=True)
    for account in accounts:
        client = Api(emulator.base_url, emulator.issue_token(account.name)["access_token"])
        expect(client.init_direct("PUBLIC_TO_EVERYONE"), 200, "ok")


def test_seventh_init_in_a_minute_is_rate_limited(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    for _ in range(6):
        expect(client.init_direct(), 200, "ok")
    expect(client.init_direct(), 429, "rate_limit_exceeded")
    emulator.advance(30)
    expect(client.init_direct(), 429, "rate_limit_exceeded")
    emulator.advance(31)
    expect(client.init_direct(), 200, "ok")


def test_daily_direct_post_cap(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    assert emulator.config.daily_post_cap == 15
    emulator.configure(access_ttl=10**8)
    client = api("creator_private")
    for index in range(15):
        if index and index % 6 == 0:
            emulator.advance(61)  # stay under the per-minute limit
        expect(client.init_direct(), 200, "ok")
    emulator.advance(61)
    expect(client.init_direct(), 403, "spam_risk_too_many_posts")
    # Drafts are not direct posts.
    expect(client.init_inbox(), 200, "ok")
    emulator.advance(86400)
    expect(client.init_direct(), 200, "ok")


def test_banned_user_cannot_init(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(audited=True)
    expect(api("creator_banned").init_direct("PUBLIC_TO_EVERYONE"), 403, "spam_risk_user_banned_from_posting")


def test_pending_draft_cap(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(access_ttl=10**8)
    emulator.configure(pending_draft_window=86400)  # the docs' "5 per 24 h" reading; default: held at once
    client = api("creator_public")
    for _ in range(5):
        expect(client.init_inbox(), 200, "ok")
    emulator.advance(61)
    expect(client.init_inbox(), 403, "spam_risk_too_many_pending_share")
    emulator.advance(86400)
    expect(client.init_inbox(), 200, "ok")


def test_inbox_ignores_post_info(api: Callable[..., Api]) -> None:
    body = {"post_info": {"privacy_level": "NONSENSE"}, "source_info": file_source(10)}
    expect(api("creator_public").post(INBOX_INIT, body), 200, "ok")


# --- photos ------------------------------------------------------------------------------------------
def photo_body(mode: str = "DIRECT_POST", images: list[str] | None = None, **post_info: object) -> dict:
    return {
        "media_type": "PHOTO",
        "post_mode": mode,
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY", **post_info},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": images or ["https://media.example.com/a.jpg"],
            "photo_cover_index": 0,
        },
    }


def test_photo_init_rules(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(verified_url_prefixes=["example.com"], rate_limits={"photo_init": 100})
    client = api("creator_private")
    expect(client.post(PHOTO_INIT, photo_body()), 200, "ok")
    expect(client.post(PHOTO_INIT, {**photo_body(), "media_type": "VIDEO"}), 400, "invalid_params")
    expect(client.post(PHOTO_INIT, photo_body(title="x" * 91)), 400, "invalid_params")
    expect(client.post(PHOTO_INIT, photo_body(description="x" * 4001)), 400, "invalid_params")
    expect(
        client.post(PHOTO_INIT, photo_body(images=["https://media.example.com/a.jpg"] * 36)),
        400,
        "invalid_params",
    )
    bad_cover = photo_body()
    bad_cover["source_info"]["photo_cover_index"] = 1
    expect(client.post(PHOTO_INIT, bad_cover), 400, "invalid_params")
    file_upload = photo_body()
    file_upload["source_info"]["source"] = "FILE_UPLOAD"
    expect(client.post(PHOTO_INIT, file_upload), 400, "invalid_params")
    emulator.advance(61)
    expect(
        client.post(PHOTO_INIT, photo_body(images=["https://evil.test/a.jpg"])),
        403,
        "url_ownership_unverified",
    )
    expect(
        client.post(PHOTO_INIT, photo_body(privacy_level="PUBLIC_TO_EVERYONE")),
        403,
        "privacy_level_option_mismatch",
    )


def test_photo_scopes_follow_post_mode(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(verified_url_prefixes=["example.com"])
    upload_only = api("creator_private", ["video.upload"])
    expect(upload_only.post(PHOTO_INIT, photo_body("DIRECT_POST")), 401, "scope_not_authorized")
    expect(upload_only.post(PHOTO_INIT, photo_body("MEDIA_UPLOAD")), 200, "ok")
