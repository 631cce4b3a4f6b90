"""Happy paths in-process: upload through the presigned URL, publish, worker to the terminal state, events."""

from __future__ import annotations

import hashlib

import pytest

from tests.integration.publishing.conftest import Publisher
from tests.media import make_jpeg, make_mp4


def _direct_video(open_id: str, upload_id: str, **post_info: object) -> dict[str, object]:
    return {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "upload_id": upload_id},
        "post_info": {"privacy_level": "SELF_ONLY", "title": "hello #test", **post_info},
    }


def test_direct_file_upload_reaches_published_with_exact_bytes(publisher: Publisher) -> None:
    # Given a private creator and a real MP4 uploaded with the presigned URL
    open_id = publisher.connect("creator_private")
    video = make_mp4(duration_s=3.0)
    ticket = publisher.upload(video, open_id)

    # When the post is published and the worker drains the queue
    answer = publisher.publish(_direct_video(open_id, ticket["upload_id"]))
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "queued"
    assert publisher.run_worker() == 0

    # Then the post is published, TikTok received exactly the file, one task exists, an event was sent
    post = publisher.post(answer.body["post_id"])
    assert post["status"] == "published", post
    assert post["transfer"] == "upload"
    tasks = publisher.tiktok_posts()
    assert len(tasks) == 1
    assert tasks[0]["source"] == "FILE_UPLOAD"
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert tasks[0]["post_info"]["privacy_level"] == "SELF_ONLY"
    events = publisher.events()
    assert [e["detail-type"] for e in events] == ["Post Published"]
    assert events[0]["detail"]["post_id"] == post["post_id"]
    assert "upload_url" not in str(post)


def test_multi_chunk_upload_streams_every_byte_in_order(publisher: Publisher) -> None:
    # Given a 23 MB video (two chunks of 10 MB with the remainder on the last): since issue 12 the worker
    # sends up to 64,000,000 bytes as one chunk, so this worker plans chunks from 10 MB on (documented plan)
    publisher.ports.worker.single_chunk_max = 10_000_000
    open_id = publisher.connect("creator_private")
    video = make_mp4(duration_s=3.0, payload_size=23_000_000)
    ticket = publisher.upload(video, open_id)

    answer = publisher.publish(_direct_video(open_id, ticket["upload_id"]))
    assert answer.status == 202, answer.body
    assert publisher.run_worker() == 0

    post = publisher.post(answer.body["post_id"])
    assert post["status"] == "published", post
    assert post["upload_progress"]["total_chunk_count"] == 2
    received = publisher.emulator.received_bytes(post["publish_id"])
    assert hashlib.sha256(received).digest() == hashlib.sha256(video).digest()


def test_inbox_post_is_sent_to_inbox(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_public")
    video = make_mp4(duration_s=2.0)
    ticket = publisher.upload(video, open_id)

    answer = publisher.publish(
        {"open_id": open_id, "mode": "inbox", "media": {"type": "video", "upload_id": ticket["upload_id"]}}
    )
    assert answer.status == 202, answer.body
    assert publisher.run_worker() == 0

    post = publisher.post(answer.body["post_id"])
    assert post["status"] == "inbox", post
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert [e["detail-type"] for e in publisher.events()] == ["Post Sent To Inbox"]


def test_s3_key_in_own_prefix_is_accepted(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    video = make_mp4(duration_s=2.0)
    ticket = publisher.upload(video, open_id)
    body = _direct_video(open_id, "x")
    body["media"] = {"type": "video", "s3_key": ticket["s3_key"]}

    answer = publisher.publish(body)
    assert answer.status == 202, answer.body
    assert publisher.run_worker() == 0
    assert publisher.post(answer.body["post_id"])["status"] == "published"


def test_upload_not_arrived_yet_waits_without_a_job(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    answer = publisher.api(
        "POST",
        "/v1/uploads",
        body={"open_id": open_id, "filename": "later.mp4", "content_type": "video/mp4", "size": 1000},
    )
    upload_id = answer.body["upload_id"]

    created = publisher.publish(_direct_video(open_id, upload_id))
    assert created.status == 202, created.body
    assert created.body["status"] == "awaiting_upload"
    assert publisher.messages() == []
    from tiktok_publisher.adapters.posts_table import PostRepository

    waiting = PostRepository().find_by_upload_id(upload_id)
    assert [p.post_id for p in waiting] == [created.body["post_id"]]


def test_list_posts_newest_first_with_cursor(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    ids = []
    for _ in range(3):
        answer = publisher.publish(_direct_video(open_id, ticket["upload_id"]))
        assert answer.status == 202, answer.body
        ids.append(answer.body["post_id"])
        publisher.clock.offset += 0.01

    first = publisher.api("GET", "/v1/posts", query={"open_id": open_id, "limit": "2"})
    assert first.status == 200, first.body
    assert [p["post_id"] for p in first.body["posts"]] == ids[::-1][:2]
    second = publisher.api(
        "GET", "/v1/posts", query={"open_id": open_id, "limit": "2", "cursor": first.body["next_cursor"]}
    )
    assert [p["post_id"] for p in second.body["posts"]] == ids[::-1][2:]


def test_photo_post_needs_a_pull_domain(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    ticket = publisher.upload(make_jpeg(640, 480), open_id, filename="a.jpg", content_type="image/jpeg")
    answer = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "photo", "images": [{"upload_id": ticket["upload_id"]}]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "pics"},
        }
    )
    assert answer.status == 422, answer.body
    assert answer.body["error"]["details"]["fields"][0]["path"] == "body.media.images.0"
    assert publisher.messages() == []


def test_public_post_ids_are_exact_strings(publisher: Publisher, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an audited app posting publicly (TikTok gives public posts int64 ids above 2**53)
    publisher.ports.service.audited = True
    publisher.emulator.configure(audited=True)
    open_id = publisher.connect("creator_public")
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    body = _direct_video(open_id, ticket["upload_id"], privacy_level="PUBLIC_TO_EVERYONE")

    answer = publisher.publish(body)
    assert answer.status == 202, answer.body
    assert publisher.run_worker() == 0

    post = publisher.post(answer.body["post_id"])
    task = publisher.tiktok_posts()[0]
    expected = [str(i) for i in task["publicaly_available_post_id"]]
    assert expected
    assert int(expected[0]) > 2**53
    assert post["post_ids"] == expected
    event = publisher.events()[0]
    assert event["detail"]["post_ids"] == expected
