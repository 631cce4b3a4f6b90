"""§4 status: the state machine on the emulator clock, media checks, raw int64 post ids, ownership."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import Api, error_code, file_source, put_chunk

STATUS_KEYS = {"status", "publicaly_available_post_id", "uploaded_bytes"}


def upload(client: Api, data: bytes, privacy: str = "SELF_ONLY", inbox: bool = False) -> str:
    response = (
        client.init_inbox(file_source(len(data)))
        if inbox
        else client.init_direct(privacy, file_source(len(data)))
    )
    assert response.status_code == 200, response.text
    body = response.json()["data"]
    assert put_chunk(body["upload_url"], data, 0, len(data)).status_code == 201
    return str(body["publish_id"])


def test_direct_post_end_to_end(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    data = fake_mp4(4000)
    response = client.init_direct("SELF_ONLY", file_source(len(data)))
    publish_id, url = response.json()["data"]["publish_id"], response.json()["data"]["upload_url"]
    first = client.status(publish_id).json()["data"]
    assert first == {"status": "PROCESSING_UPLOAD", "publicaly_available_post_id": [], "uploaded_bytes": 0}
    assert put_chunk(url, data, 0, len(data)).status_code == 201
    assert client.status(publish_id).json()["data"]["status"] == "PROCESSING_UPLOAD"  # processing takes time
    emulator.advance(emulator.config.processing_delay)
    final = client.status(publish_id).json()
    assert final["error"]["code"] == "ok"
    assert final["data"] == {
        "status": "PUBLISH_COMPLETE",
        "publicaly_available_post_id": [],
        "uploaded_bytes": 4000,
    }


def test_inbox_ends_in_send_to_user_inbox(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_public")
    publish_id = upload(client, fake_mp4(4000), inbox=True)
    emulator.advance(1)
    assert client.status(publish_id).json()["data"]["status"] == "SEND_TO_USER_INBOX"


def test_processing_delay_is_configurable(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(processing_delay=120)
    client = api("creator_public")
    publish_id = upload(client, fake_mp4(4000), inbox=True)
    emulator.advance(119)
    assert client.status(publish_id).json()["data"]["status"] == "PROCESSING_UPLOAD"
    emulator.advance(1)
    assert client.status(publish_id).json()["data"]["status"] == "SEND_TO_USER_INBOX"


def test_not_a_video_fails_format_check(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    publish_id = upload(client, b"this is not a video" * 100)
    emulator.advance(1)
    data = client.status(publish_id).json()["data"]
    assert (data["status"], data["fail_reason"]) == ("FAILED", "file_format_check_failed")


def test_webm_header_passes(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    publish_id = upload(client, b"\x1a\x45\xdf\xa3" + bytes(2000))
    emulator.advance(1)
    assert client.status(publish_id).json()["data"]["status"] == "PUBLISH_COMPLETE"


def test_too_long_video_fails_duration_check(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")  # max_video_post_duration_sec = 300
    publish_id = upload(client, fake_mp4(4000, duration_sec=301))
    emulator.advance(1)
    data = client.status(publish_id).json()["data"]
    assert (data["status"], data["fail_reason"]) == ("FAILED", "duration_check_failed")


def test_public_post_ids_are_raw_int64_numbers(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(audited=True)
    client = api("creator_public")
    publish_id = upload(client, fake_mp4(4000), privacy="PUBLIC_TO_EVERYONE")
    emulator.advance(1)
    raw = client.status(publish_id).text
    match = re.search(r'"publicaly_available_post_id":\s*\[(\d+)\]', raw)
    assert match, raw  # a bare number in the JSON text, not a string
    post_id = int(match.group(1))
    assert 2**53 < post_id < 2**63
    assert json.loads(raw)["data"]["publicaly_available_post_id"] == [post_id]


def test_public_ids_wait_for_moderation(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(audited=True, moderation_delay=300)
    client = api("creator_public")
    publish_id = upload(client, fake_mp4(4000), privacy="PUBLIC_TO_EVERYONE")
    emulator.advance(1)
    data = client.status(publish_id).json()["data"]
    assert (data["status"], data["publicaly_available_post_id"]) == ("PUBLISH_COMPLETE", [])
    emulator.advance(300)
    assert len(client.status(publish_id).json()["data"]["publicaly_available_post_id"]) == 1


def test_non_public_posts_get_no_ids(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(audited=True)
    client = api("creator_public")
    publish_id = upload(client, fake_mp4(4000), privacy="MUTUAL_FOLLOW_FRIENDS")
    emulator.advance(3600)
    assert client.status(publish_id).json()["data"]["publicaly_available_post_id"] == []


def test_unknown_and_foreign_publish_ids(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    owner = api("creator_private")
    publish_id = owner.init_direct().json()["data"]["publish_id"]
    unknown = owner.status("v_pub_file~v2-1.0")
    assert (unknown.status_code, error_code(unknown)) == (400, "invalid_publish_id")
    foreign = api("creator_public").status(publish_id)
    assert (foreign.status_code, error_code(foreign)) == (
        400,
        "token_not_authorized_for_specified_publish_id",
    )
    assert error_code(owner.post("/v2/post/publish/status/fetch/", {})) == "invalid_publish_id"


def test_status_scope_and_rate_limit(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    publish_id = client.init_direct().json()["data"]["publish_id"]
    no_scope = Api(
        emulator.base_url, emulator.issue_token("creator_private", ["user.info.basic"])["access_token"]
    )
    assert error_code(no_scope.status(publish_id)) == "scope_not_authorized"
    assert [client.status(publish_id).status_code for _ in range(30)] == [200] * 30
    limited = client.status(publish_id)
    assert (limited.status_code, error_code(limited)) == (429, "rate_limit_exceeded")


def test_revoked_authorization_fails_unfinished_posts(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    client = api("creator_private")
    publish_id = client.init_direct().json()["data"]["publish_id"]
    emulator.revoke_authorization("creator_private")
    assert emulator.post(publish_id)["fail_reason"] == "auth_removed"
    assert error_code(client.status(publish_id)) == "access_token_invalid"


def test_admin_post_view(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    publish_id = upload(client, fake_mp4(4000))
    post = requests.get(f"{emulator.base_url}/_admin/posts/{publish_id}", timeout=10).json()
    assert post["account"] == "creator_private"
    assert post["mode"] == "direct"
    assert post["post_info"]["privacy_level"] == "SELF_ONLY"
    assert post["source"] == "FILE_UPLOAD"
    assert post["sha256"]
