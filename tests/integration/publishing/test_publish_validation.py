"""Bad input: every rule answers 422 with the field path, other tenants' ids answer 404, and a refused post
leaves nothing on the queue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.publishing.conftest import OTHER_TENANT, Publisher
from tests.media import make_mp4


def _paths(answer: Any) -> list[str]:
    assert answer.status == 422, answer.body
    return [field["path"] for field in answer.body["error"]["details"]["fields"]]


@pytest.fixture
def ready(publisher: Publisher) -> dict[str, Any]:
    """A private creator (duet/stitch disabled, max 300 s) with one uploaded 3 s video."""
    open_id = publisher.connect("creator_private")
    ticket = publisher.upload(make_mp4(duration_s=3.0), open_id)
    return {"open_id": open_id, "upload_id": ticket["upload_id"], "s3_key": ticket["s3_key"]}


def _video(ready: dict[str, Any], **post_info: Any) -> dict[str, Any]:
    return {
        "open_id": ready["open_id"],
        "mode": "direct",
        "media": {"type": "video", "upload_id": ready["upload_id"]},
        "post_info": post_info,
    }


def _photo(ready: dict[str, Any], count: int = 1, **post_info: Any) -> dict[str, Any]:
    images = [{"url": f"https://media.example.com/p{i}.jpg"} for i in range(count)]
    return {
        "open_id": ready["open_id"],
        "mode": "direct",
        "media": {"type": "photo", "images": images},
        "post_info": post_info,
    }


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("privacy missing", {"title": "x"}, "body.post_info.privacy_level"),
    ("privacy not an option", {"privacy_level": "PUBLIC_TO_EVERYONE"}, "body.post_info.privacy_level"),
    (
        "unaudited app: SELF_ONLY only",
        {"privacy_level": "MUTUAL_FOLLOW_FRIENDS"},
        "body.post_info.privacy_level",
    ),
    (
        "disabled duet enabled",
        {"privacy_level": "SELF_ONLY", "disable_duet": False},
        "body.post_info.disable_duet",
    ),
    (
        "disclosure without a brand box",
        {"privacy_level": "SELF_ONLY", "commercial_content": True},
        "body.post_info.commercial_content",
    ),
    (
        "branded content is never SELF_ONLY",
        {"privacy_level": "SELF_ONLY", "brand_content_toggle": True},
        "body.post_info.privacy_level",
    ),
    (
        "title over 2200 UTF-16 units",
        {"privacy_level": "SELF_ONLY", "title": "😀" * 1101},
        "body.post_info.title",
    ),
]


@pytest.mark.parametrize(("why", "post_info", "path"), CASES, ids=[c[0] for c in CASES])
def test_direct_video_rules_answer_422_with_path(
    publisher: Publisher, ready: dict[str, Any], why: str, post_info: dict[str, Any], path: str
) -> None:
    answer = publisher.publish(_video(ready, **post_info))
    assert path in _paths(answer), why
    assert publisher.messages() == []


def test_title_of_exactly_2200_utf16_units_is_accepted(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.publish(_video(ready, privacy_level="SELF_ONLY", title="😀" * 1100))
    assert answer.status == 202, answer.body


def test_unaudited_app_refuses_a_public_account(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_public")
    ticket = publisher.upload(make_mp4(duration_s=3.0), open_id)
    answer = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY"},
        }
    )
    assert "body.open_id" in _paths(answer)
    assert "private" in str(answer.body)
    assert publisher.messages() == []


def test_video_longer_than_the_creator_may_post(publisher: Publisher, ready: dict[str, Any]) -> None:
    ticket = publisher.upload(make_mp4(duration_s=301.0), ready["open_id"])  # creator_private: max 300 s
    answer = publisher.publish(
        {
            **_video(ready, privacy_level="SELF_ONLY"),
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
        }
    )
    assert "body.media.duration_s" in _paths(answer)
    assert publisher.messages() == []


@pytest.mark.parametrize(
    ("options", "path"),
    [({"fps": 15}, "body.media.fps"), ({"width": 200, "height": 300}, "body.media.width")],
)
def test_media_tiktok_would_refuse_is_refused_before_init(
    publisher: Publisher, ready: dict[str, Any], options: dict[str, Any], path: str
) -> None:
    ticket = publisher.upload(make_mp4(duration_s=3.0, **options), ready["open_id"])
    body = _video(ready, privacy_level="SELF_ONLY")
    body["media"] = {"type": "video", "upload_id": ticket["upload_id"]}
    assert path in _paths(publisher.publish(body))
    assert publisher.messages() == []
    assert publisher.tiktok_posts() == []


def test_not_a_video_at_all(publisher: Publisher, ready: dict[str, Any]) -> None:
    ticket = publisher.upload(b"\x00" * 4096, ready["open_id"])
    body = _video(ready, privacy_level="SELF_ONLY")
    body["media"] = {"type": "video", "upload_id": ticket["upload_id"]}
    assert "body.media" in _paths(publisher.publish(body))
    assert publisher.messages() == []


def test_inbox_video_takes_no_post_info(publisher: Publisher, ready: dict[str, Any]) -> None:
    body = {**_video(ready, title="x"), "mode": "inbox"}
    assert "body.post_info" in _paths(publisher.publish(body))
    assert publisher.messages() == []


def test_photo_title_over_90(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.publish(_photo(ready, privacy_level="SELF_ONLY", title="a" * 91))
    assert "body.post_info.title" in _paths(answer)


def test_photo_description_over_4000(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.publish(_photo(ready, privacy_level="SELF_ONLY", description="a" * 4001))
    assert "body.post_info.description" in _paths(answer)


def test_more_than_35_photos(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.publish(_photo(ready, 36, privacy_level="SELF_ONLY"))
    assert any(p.startswith("body.media") and "images" in p for p in _paths(answer))
    assert publisher.messages() == []


def test_http_media_url_is_refused(publisher: Publisher, ready: dict[str, Any]) -> None:
    body = _video(ready, privacy_level="SELF_ONLY")
    body["media"] = {"type": "video", "url": "http://media.example.com/v.mp4"}
    assert any(p.startswith("body.media") and p.endswith("url") for p in _paths(publisher.publish(body)))


def test_two_sources_at_once_are_refused(publisher: Publisher, ready: dict[str, Any]) -> None:
    body = _video(ready, privacy_level="SELF_ONLY")
    body["media"] = {"type": "video", "upload_id": ready["upload_id"], "s3_key": ready["s3_key"]}
    assert any(p.startswith("body.media") for p in _paths(publisher.publish(body)))


def test_missing_idempotency_key(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.api("POST", "/v1/posts", body=_video(ready, privacy_level="SELF_ONLY"))
    assert any("idempotency" in p.lower() for p in _paths(answer))
    assert publisher.messages() == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"filename": "a.gif", "content_type": "image/gif", "size": 10}, "body.content_type"),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size": 4_000_000_001}, "body.size"),
        ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 20_000_001}, "body.size"),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size": 0}, "body.size"),
    ],
)
def test_upload_type_and_size_are_checked_before_signing(
    publisher: Publisher, ready: dict[str, Any], body: dict[str, Any], path: str
) -> None:
    answer = publisher.api("POST", "/v1/uploads", body={"open_id": ready["open_id"], **body})
    assert path in _paths(answer)
    assert "url" not in answer.body


def test_upload_is_signed_under_the_callers_prefix_only(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.api(
        "POST",
        "/v1/uploads",
        body={
            "open_id": ready["open_id"],
            "filename": "../../tenant-other/x/evil name.mp4",
            "content_type": "video/mp4",
            "size": 10,
        },
    )
    assert answer.status == 201, answer.body
    key = answer.body["s3_key"]
    assert key.startswith(f"uploads/{publisher.tenant}/{ready['open_id']}/{answer.body['upload_id']}/")
    assert key.endswith("/evil_name.mp4")
    assert answer.body["headers"]["Content-Type"] == "video/mp4"
    assert answer.body["headers"]["x-amz-meta-declared-size"] == "10"


# ---------------------------------------------------------------------------------------- other tenants


def test_another_tenants_upload_id_is_404(publisher: Publisher, ready: dict[str, Any]) -> None:
    # The other tenant connected the same TikTok account and names our upload id.
    publisher.connect("creator_private", tenant=OTHER_TENANT)
    body = _video(ready, privacy_level="SELF_ONLY")
    answer = publisher.publish(body, tenant=OTHER_TENANT)
    assert answer.status == 404, answer.body
    assert publisher.messages() == []


def test_another_tenants_s3_key_is_404(publisher: Publisher, ready: dict[str, Any]) -> None:
    publisher.connect("creator_private", tenant=OTHER_TENANT)
    body = _video(ready, privacy_level="SELF_ONLY")
    body["media"] = {"type": "video", "s3_key": ready["s3_key"]}
    answer = publisher.publish(body, tenant=OTHER_TENANT)
    assert answer.status == 404, answer.body
    assert publisher.messages() == []


def test_another_tenants_account_and_post_are_404(publisher: Publisher, ready: dict[str, Any]) -> None:
    answer = publisher.publish(_video(ready, privacy_level="SELF_ONLY"), tenant=OTHER_TENANT)
    assert answer.status == 404, answer.body
    mine = publisher.publish(_video(ready, privacy_level="SELF_ONLY"))
    assert mine.status == 202
    post_id = mine.body["post_id"]
    assert publisher.api("GET", f"/v1/posts/{post_id}", tenant=OTHER_TENANT).status == 404
    assert publisher.api("DELETE", f"/v1/posts/{post_id}", tenant=OTHER_TENANT).status == 404
    listing = publisher.api("GET", "/v1/posts", query={"open_id": ready["open_id"]}, tenant=OTHER_TENANT)
    assert listing.status == 404
    upload = publisher.api(
        "POST",
        "/v1/uploads",
        body={"open_id": ready["open_id"], "filename": "a.mp4", "content_type": "video/mp4", "size": 10},
        tenant=OTHER_TENANT,
    )
    assert upload.status == 404


def test_a_cursor_from_another_account_is_refused(publisher: Publisher, ready: dict[str, Any]) -> None:
    other_open_id = publisher.connect("creator_public")
    for _ in range(2):
        assert publisher.publish(_video(ready, privacy_level="SELF_ONLY")).status == 202
    page = publisher.api("GET", "/v1/posts", query={"open_id": ready["open_id"], "limit": "1"})
    cursor = page.body["next_cursor"]
    assert cursor
    answer = publisher.api("GET", "/v1/posts", query={"open_id": other_open_id, "cursor": cursor})
    assert "query.cursor" in _paths(answer)
