"""TikTok as integrators really meet it (issue 12): the worker against the emulator's "seen in the wild"
behaviours, over real HTTP, with moto behind the API and the worker.

Pulls need a media host TikTok can reach: `media_host` is a small HTTP server on loopback in front of the
(in-process, moto) bucket, as a CDN on the verified domain would be. It serves only path-style presigned GETs
that carry a signature and have not expired, and the emulator is told its origin is the verified prefix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.integration.publishing.conftest import Publisher
from tests.media import make_jpeg, make_mp4

SEVENTEEN_POINT_EIGHT_MB = 17_800_000
SEVENTY_MB = 70_000_000


@pytest.fixture
def media_host(publisher: Publisher) -> Iterator[str]:
    """A verified media host in front of the bucket, wired as MEDIA_PULL_MODE=s3 on its origin."""
    from tiktok_publisher.adapters.s3_media import PullUrlSigner

    s3 = publisher.env.aws.s3

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
            if not _presigned_and_fresh(query):
                self._answer(403, b"signature missing or expired")
                return
            try:
                obj = s3.get_object(Bucket=bucket, Key=key)
            except Exception:
                self._answer(404, b"no such object")
                return
            self.send_response(200)
            self.send_header("Content-Type", obj.get("ContentType") or "application/octet-stream")
            self.send_header("Content-Length", str(obj["ContentLength"]))
            self.end_headers()
            for piece in obj["Body"].iter_chunks(1 << 20):
                self.wfile.write(piece)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    publisher.emulator.configure(verified_url_prefixes=[base + "/"])
    signer = PullUrlSigner("s3", base, publisher.ports.service.media)
    publisher.ports.worker.pull = signer
    publisher.ports.service.pull = signer
    yield base
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _presigned_and_fresh(query: dict[str, list[str]]) -> bool:
    needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature")
    if not all(query.get(name) for name in needed):
        return False
    signed = dt.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    expires = signed + dt.timedelta(seconds=int(query["X-Amz-Expires"][0]))
    return dt.datetime.now(dt.UTC) <= expires


def _video_post(
    publisher: Publisher, size: int | None = None, *, account: str = "creator_private", **extra: Any
) -> tuple[str, bytes]:
    open_id = publisher.connect(account)
    video = make_mp4(duration_s=3.0, payload_size=size)
    ticket = publisher.upload(video, open_id)
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "upload_id": ticket["upload_id"]},
        "post_info": {"privacy_level": "SELF_ONLY", "title": "in the wild"},
        **extra,
    }
    answer = publisher.publish(body)
    assert answer.status == 202, answer.body
    return str(answer.body["post_id"]), video


def _photo_post(
    publisher: Publisher, *, mode: str, post_info: dict[str, Any] | None
) -> tuple[str, list[bytes]]:
    open_id = publisher.connect("creator_private")
    photos = [make_jpeg(1080, 1350), make_jpeg(1080, 1080)]
    images = [
        {
            "upload_id": publisher.upload(p, open_id, filename=f"p{i}.jpg", content_type="image/jpeg")[
                "upload_id"
            ]
        }
        for i, p in enumerate(photos)
    ]
    body: dict[str, Any] = {"open_id": open_id, "mode": mode, "media": {"type": "photo", "images": images}}
    if post_info is not None:
        body["post_info"] = post_info
    answer = publisher.publish(body)
    assert answer.status == 202, answer.body
    return str(answer.body["post_id"]), photos


def _wait_pulled(publisher: Publisher) -> None:
    """Pulls run on the emulator's threads in real time: wait (bounded) until none is downloading."""
    publisher.emulator.wait_for(
        lambda: all(t["status"] != "PROCESSING_DOWNLOAD" for t in publisher.tiktok_posts()), timeout=60
    )


def _run_with_pulls(publisher: Publisher, *, rounds: int = 40) -> None:
    """Drain the queue, letting TikTok finish each download before the next status poll."""
    for _ in range(rounds):
        batch = publisher.messages()
        if not batch:
            return
        _wait_pulled(publisher)
        publisher.deliver(batch)
    raise AssertionError("the worker did not settle within the bounded number of rounds")


# ---------------------------------------------------------------------- the chunk plan


def test_a_17_8_mb_video_is_one_chunk_of_exactly_its_size(publisher: Publisher) -> None:
    # Given TikTok as integrators meet it since 2026-08: multi-chunk inits refused, and one chunk only when
    # chunk_size == video_size
    publisher.emulator.configure(refuse_multi_chunk_init=True, single_chunk_must_equal_size=True)
    post_id, video = _video_post(publisher, SEVENTEEN_POINT_EIGHT_MB)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    [task] = publisher.tiktok_posts()
    size = len(video)
    assert size > SEVENTEEN_POINT_EIGHT_MB
    assert task["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": size,
        "total_chunk_count": 1,
    }
    assert publisher.emulator.received_bytes(post["publish_id"]) == video


def test_a_70_mb_video_refused_in_chunks_fails_naming_the_refusal_without_a_verified_domain(
    publisher: Publisher,
) -> None:
    publisher.emulator.configure(refuse_multi_chunk_init=True)
    post_id, _video = _video_post(publisher, SEVENTY_MB)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    error = post["error"]
    assert (error["class"], error["code"]) == ("fix_media", "multi_chunk_refused")
    assert '"The chunk size is invalid"' in error["message"]  # TikTok's words, quoted
    assert "64 MB" in error["message"]
    assert "MEDIA_PULL_MODE" in error["message"]
    assert "post settings" not in error["message"]
    assert error["log_id"]
    assert publisher.tiktok_posts() == []  # the refused init created nothing, no byte was sent
    [event] = publisher.events()
    assert event["detail-type"] == "Post Failed"
    assert event["detail"]["error"]["error_code"] == "multi_chunk_refused"


def test_a_70_mb_video_refused_in_chunks_is_pulled_when_a_verified_domain_is_configured(
    publisher: Publisher, media_host: str
) -> None:
    # Given a verified media domain whose first download TikTok fails (video_pull_failed), so the worker
    # falls back to FILE_UPLOAD, whose multi-chunk init TikTok then refuses
    publisher.emulator.configure(refuse_multi_chunk_init=True, processing_delay=0)
    publisher.emulator.fault("processing", "fail", code="video_pull_failed")
    post_id, video = _video_post(publisher, SEVENTY_MB)

    _run_with_pulls(publisher)

    # Then TikTok pulls it again instead, and it is published once, by pull
    post = publisher.post(post_id)
    assert (post["status"], post["transfer"]) == ("published", "pull"), post
    tasks = publisher.tiktok_posts()
    assert sorted((t["source"], t["status"]) for t in tasks) == [
        ("PULL_FROM_URL", "FAILED"),
        ("PULL_FROM_URL", "PUBLISH_COMPLETE"),
    ]
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    notes = " | ".join(h.get("note") or "" for h in post["history"])
    assert "multi-chunk upload refused by TikTok: TikTok pulls the video instead" in notes
    assert [e["detail-type"] for e in publisher.events()] == ["Post Published"]


# ---------------------------------------------------------------------- photos: never an empty post_info


def test_a_photo_draft_without_title_is_sent_with_post_info_and_delivered(
    publisher: Publisher, media_host: str
) -> None:
    publisher.emulator.configure(processing_delay=0)
    post_id, photos = _photo_post(publisher, mode="inbox", post_info=None)

    _run_with_pulls(publisher)

    post = publisher.post(post_id)
    assert post["status"] == "inbox", post
    [task] = publisher.tiktok_posts()
    assert task["post_info"]  # the emulator refuses {} as TikTok does; it was not sent
    assert [publisher.emulator.received_bytes(post["publish_id"], index=i) for i in range(2)] == photos


def test_a_direct_photo_post_of_a_private_creator_is_published(publisher: Publisher, media_host: str) -> None:
    publisher.emulator.configure(processing_delay=0)
    post_id, photos = _photo_post(
        publisher, mode="direct", post_info={"privacy_level": "SELF_ONLY", "title": "two photos"}
    )

    _run_with_pulls(publisher)

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    assert [publisher.emulator.received_bytes(post["publish_id"], index=i) for i in range(2)] == photos


def test_a_photo_refused_for_an_unverified_domain_says_so_for_photos(
    publisher: Publisher, media_host: str
) -> None:
    publisher.emulator.configure(verified_url_prefixes=["https://media.example.com/"])
    post_id, _photos = _photo_post(publisher, mode="direct", post_info={"privacy_level": "SELF_ONLY"})

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    message = post["error"]["message"]
    assert post["error"]["code"] == "url_ownership_unverified"
    assert "photo" in message
    assert "video" not in message
    assert "uploaded directly" not in message


# ---------------------------------------------------------------------- tolerant where TikTok may surprise


def test_a_chunk_answered_with_another_2xx_counts_as_delivered(publisher: Publisher) -> None:
    # Given an upload in three chunks whose first and last PUTs TikTok answers 200 (not 206/201)
    publisher.ports.worker.single_chunk_max = 10_000_000  # the documented multi-chunk plan, small files
    publisher.emulator.fault("chunk", "status_as", status=200)
    post_id, video = _video_post(publisher, 31_000_000)
    publisher.emulator.configure(processing_delay=0)

    class LastChunkToo:
        armed = False

    def after_chunk(post: Any, next_index: int) -> None:
        if next_index == 2 and not LastChunkToo.armed:
            LastChunkToo.armed = True
            publisher.emulator.fault("chunk", "status_as", status=200)

    publisher.ports.worker.seams.after_chunk = after_chunk  # type: ignore[method-assign]

    assert publisher.run_worker() == 0

    # Then every chunk went once, in order, and the status decided: published
    post = publisher.post(post_id)
    assert post["status"] == "published", post
    assert LastChunkToo.armed
    [task] = publisher.tiktok_posts()
    assert task["source_info"]["total_chunk_count"] == 3
    assert publisher.emulator.received_bytes(post["publish_id"]) == video


def test_an_unknown_status_value_is_processing_under_the_same_deadline(publisher: Publisher) -> None:
    publisher.emulator.fault("status", "status_value", value="PROCESSING_PUBLISH", count=3)
    post_id, _video = _video_post(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    assert len(publisher.tiktok_posts()) == 1
    # It was polled on with the usual growing delays, not retried as an error
    polls = [d for d in publisher.delays if d in (5, 10, 20, 40)]
    assert polls[:4] == [5, 10, 20, 40], publisher.delays


def test_internal_on_an_upload_starts_one_fresh_task_then_publishes(publisher: Publisher) -> None:
    publisher.emulator.configure(processing_delay=0)
    publisher.emulator.fault("processing", "fail", code="internal")
    post_id, video = _video_post(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    tasks = publisher.tiktok_posts()
    assert sorted((t["status"], t["fail_reason"]) for t in tasks) == [
        ("FAILED", "internal"),
        ("PUBLISH_COMPLETE", None),
    ]
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert [e["detail-type"] for e in publisher.events()] == ["Post Published"]


def test_internal_twice_on_an_upload_fails_with_a_message_that_promises_nothing(publisher: Publisher) -> None:
    publisher.emulator.configure(processing_delay=0)
    publisher.emulator.fault("processing", "fail", code="internal", count=2)
    post_id, _video = _video_post(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert [t["fail_reason"] for t in publisher.tiktok_posts()] == ["internal", "internal"]  # never a third
    message = post["error"]["message"]
    assert post["error"]["code"] == "internal"
    assert "retry automatically" not in message
    assert "video" in message
    assert "again later" in message


def test_invalid_params_carries_tiktoks_own_message(publisher: Publisher) -> None:
    publisher.emulator.fault(
        "video_init", "error200", code="invalid_params", message="The video_cover_timestamp_ms is invalid"
    )
    post_id, _video = _video_post(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["code"] == "invalid_params"
    assert '"The video_cover_timestamp_ms is invalid"' in post["error"]["message"]


# ---------------------------------------------------------------------- upload_url checked before a byte


def test_an_upload_url_off_tiktoks_hosts_gets_no_byte(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker whose configuration does not trust the emulator's upload origin (as in a deployment)
    from tiktok_publisher import bootstrap, config

    monkeypatch.delenv("TIKTOK_UPLOAD_ORIGINS")
    config.reset_caches()
    bootstrap.reset()
    worker = bootstrap.ports().worker
    worker.queue, worker.clock, worker.sleep = publisher.ports.worker.queue, publisher.clock, lambda _s: None
    publisher.ports.worker = worker
    post_id, _video = _video_post(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["code"] == "untrusted_upload_url"
    [task] = publisher.tiktok_posts()
    assert task["uploaded_bytes"] == 0


# ---------------------------------------------------------------------- fresh rules at dispatch


def _change_account(publisher: Publisher, name: str, **changes: Any) -> None:
    accounts = [
        {**dataclasses.asdict(a), **(changes if a.name == name else {})}
        for a in publisher.emulator.config.accounts
    ]
    publisher.emulator.configure(accounts=accounts)


def _scheduled(publisher: Publisher, **extra: Any) -> str:
    publish_at = int(publisher.clock()) + 3 * 24 * 3600
    post_id, _video = _video_post(publisher, publish_at=publish_at, **extra)
    assert publisher.post(post_id)["status"] == "scheduled"
    publisher.advance(3 * 24 * 3600 + 60)
    from tiktok_publisher import bootstrap

    report = bootstrap.ports().dispatcher.dispatch_due(now=int(publisher.clock()))
    assert report["dispatched"] == 1, report
    return post_id


def test_a_scheduled_post_longer_than_the_new_maximum_fails_at_dispatch(publisher: Publisher) -> None:
    # Given a 3 s video scheduled 3 days ahead, and the creator's maximum dropping to 2 s meanwhile
    post_id = _scheduled(publisher)
    _change_account(publisher, "creator_private", max_video_post_duration_sec=2)

    assert publisher.run_worker() == 0

    # Then it fails before any init, naming the rule that no longer holds
    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["code"] == "creator_rules_changed"
    assert "at most 2 s" in post["error"]["message"]
    assert publisher.tiktok_posts() == []


def test_a_scheduled_post_whose_privacy_option_is_gone_fails_at_dispatch(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an audited app, a public creator's post scheduled for everyone, and the account made private
    publisher.ports.service.audited = publisher.ports.worker.audited = True
    publisher.emulator.configure(audited=True)
    post_id = _scheduled(
        publisher,
        account="creator_public",
        post_info={"privacy_level": "PUBLIC_TO_EVERYONE", "title": "for everyone"},
    )
    _change_account(publisher, "creator_public", private=True)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["code"] == "creator_rules_changed"
    assert "PUBLIC_TO_EVERYONE" in post["error"]["message"]
    assert publisher.tiktok_posts() == []


def test_a_scheduled_post_of_a_creator_who_cannot_post_any_more_fails_at_dispatch(
    publisher: Publisher,
) -> None:
    post_id = _scheduled(publisher)
    _change_account(publisher, "creator_private", banned=True)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert (post["error"]["class"], post["error"]["code"]) == ("quota", "spam_risk_user_banned_from_posting")
    assert publisher.tiktok_posts() == []


def test_a_scheduled_post_still_allowed_is_published_with_interactions_tightened(
    publisher: Publisher,
) -> None:
    post_id = _scheduled(
        publisher, post_info={"privacy_level": "SELF_ONLY", "title": "comments on", "disable_comment": False}
    )
    _change_account(publisher, "creator_private", comment_disabled=True)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    [task] = publisher.tiktok_posts()
    assert task["post_info"]["disable_comment"] is True  # the creator turned comments off meanwhile
    assert re.search(
        "creator_info read again at dispatch", " ".join(h.get("note") or "" for h in post["history"])
    )


def test_a_post_changed_by_something_else_during_its_rules_check_is_checked_again(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a scheduled post, and a late write to it (a slow S3 event for its upload, say) landing while the
    # worker reads creator_info at dispatch: the rules check's write, conditional on the version, loses
    from tiktok_publisher import bootstrap
    from tiktok_publisher.adapters.posts_table import PostRepository

    post_id = _scheduled(publisher)
    client = bootstrap.ports().worker.client
    real = client.creator_info
    bumped: list[int] = []

    def with_a_late_write(token: str) -> Any:
        if not bumped:
            repo = PostRepository()
            row = repo.get(publisher.tenant, post_id)
            assert repo.update(row, now=publisher.clock(), note="a late S3 event") is not None
            bumped.append(1)
        return real(token)

    monkeypatch.setattr(client, "creator_info", with_a_late_write)

    assert publisher.run_worker() == 0

    # Then the post is read and checked again, and published once: never left queued
    post = publisher.post(post_id)
    assert post["status"] == "published", post
    assert len(publisher.tiktok_posts()) == 1
