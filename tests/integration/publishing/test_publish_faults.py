"""Never twice: the worker killed at each step and run again, TikTok failing in each way it can.

A "kill" is an exception raised at one of the worker's seams: the SQS record fails, nothing after the seam
runs, and the same message is delivered again (as SQS would after the visibility timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.publishing.conftest import Publisher
from tests.media import make_mp4
from tiktok_publisher.domain.posts import Post
from tiktok_publisher.publishing.worker import INIT_LEASE_S, Seams

THREE_CHUNKS = 31_000_000  # 10 MB chunks: 3 of them, the remainder riding on the last
# Since issue 12 the worker sends up to 64,000,000 bytes as one chunk; these tests are about resuming a
# multi-chunk upload, so their worker plans chunks from 10 MB on (the documented plan, with small files).
MULTI_CHUNK_FROM = 10_000_000


class Killed(RuntimeError):
    """The Lambda environment died here."""


class KillOnce(Seams):
    """Raise at one seam, the first time it is reached."""

    def __init__(self, seam: str, chunk: int | None = None) -> None:
        self.seam = seam
        self.chunk = chunk
        self.fired = False

    def _maybe(self, seam: str, chunk: int | None = None) -> None:
        if not self.fired and seam == self.seam and (self.chunk is None or chunk == self.chunk):
            self.fired = True
            raise Killed(seam)

    def after_init_call(self, post: Post) -> None:
        self._maybe("after_init_call")

    def after_init(self, post: Post) -> None:
        self._maybe("after_init")

    def after_chunk(self, post: Post, next_index: int) -> None:
        self._maybe("after_chunk", next_index)

    def after_upload(self, post: Post) -> None:
        self._maybe("after_upload")


def _start(publisher: Publisher, payload_size: int | None = None) -> tuple[str, bytes]:
    publisher.ports.worker.single_chunk_max = MULTI_CHUNK_FROM
    open_id = publisher.connect("creator_private")
    video = make_mp4(duration_s=3.0, payload_size=payload_size)
    ticket = publisher.upload(video, open_id)
    answer = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "never twice"},
        }
    )
    assert answer.status == 202, answer.body
    return str(answer.body["post_id"]), video


def _one_task(publisher: Publisher) -> dict[str, Any]:
    tasks = publisher.tiktok_posts()
    assert len(tasks) == 1, tasks
    return tasks[0]


@pytest.mark.parametrize(
    ("seam", "chunk"),
    [
        ("after_init", None),
        ("after_chunk", 1),  # chunk 0 acknowledged by TikTok, our progress not saved
        ("after_chunk", 2),
        ("after_chunk", 3),  # the last chunk: TikTok has every byte, we do not know it yet
        ("after_upload", None),  # progress saved, status not moved to processing yet
    ],
)
def test_killed_after_publish_id_resumes_and_posts_once(
    publisher: Publisher, seam: str, chunk: int | None
) -> None:
    # Given a 3-chunk video and a worker that dies at the seam
    post_id, video = _start(publisher, THREE_CHUNKS)
    publisher.ports.worker.seams = KillOnce(seam, chunk)

    # When the queue is drained (the failed message comes back once)
    failures = publisher.run_worker()

    # Then exactly one delivery failed, the post is published once, with every byte in place
    assert failures == 1
    post = publisher.post(post_id)
    assert post["status"] == "published", post
    task = _one_task(publisher)
    assert task["publish_id"] == post["publish_id"]
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert [e["detail-type"] for e in publisher.events()] == ["Post Published"]


def test_killed_between_init_and_saving_publish_id_never_inits_again(publisher: Publisher) -> None:
    # Given a worker that dies after TikTok answered init but before publish_id was stored
    post_id, _video = _start(publisher)
    publisher.ports.worker.seams = KillOnce("after_init_call")

    failures = publisher.run_worker()

    # Then the rerun did not call init again: one task at TikTok, and the post is `unconfirmed`
    assert failures == 1
    _one_task(publisher)
    post = publisher.post(post_id)
    assert post["status"] == "unconfirmed", post
    assert post["error"]["code"] == "init_outcome_unknown"
    # It waited out the first worker's lease before settling, rather than racing it.
    assert any(delay >= INIT_LEASE_S / 2 for delay in publisher.delays)
    assert publisher.events() == []


def test_5xx_on_a_chunk_is_retried_and_posts_once(publisher: Publisher) -> None:
    post_id, video = _start(publisher, THREE_CHUNKS)

    class FailChunkOne(Seams):
        def after_chunk(self, post: Post, next_index: int) -> None:
            if next_index == 1:
                publisher.emulator.fault("chunk", "5xx", count=2, status=503)

    publisher.ports.worker.seams = FailChunkOne()
    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    _one_task(publisher)
    assert publisher.emulator.received_bytes(post["publish_id"]) == video


def test_chunk_failing_beyond_in_process_retries_resumes_from_a_delayed_job(publisher: Publisher) -> None:
    post_id, video = _start(publisher, THREE_CHUNKS)

    class FailChunkTwo(Seams):
        def after_chunk(self, post: Post, next_index: int) -> None:
            if next_index == 2 and not getattr(self, "armed", False):
                self.armed = True
                publisher.emulator.fault("chunk", "5xx", count=3, status=500)

    publisher.ports.worker.seams = FailChunkTwo()
    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    _one_task(publisher)
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert any(delay >= 1 for delay in publisher.delays)


def test_429_on_init_is_delayed_and_posts_once(publisher: Publisher) -> None:
    post_id, video = _start(publisher)
    publisher.emulator.fault("video_init", "429")

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    _one_task(publisher)
    # The retry respected TikTok's 6 inits/min/token: at least 10 s later.
    assert publisher.delays[0] >= 10
    assert publisher.emulator.received_bytes(post["publish_id"]) == video


def test_quota_error_on_init_fails_without_retry(publisher: Publisher) -> None:
    post_id, _video = _start(publisher)
    publisher.emulator.fault("video_init", "error200", code="spam_risk_too_many_posts")

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["class"] == "quota"
    assert post["error"]["code"] == "spam_risk_too_many_posts"
    assert post["error"]["log_id"]
    assert publisher.tiktok_posts() == []
    assert publisher.delays == []
    events = publisher.events()
    assert [e["detail-type"] for e in events] == ["Post Failed"]
    assert events[0]["detail"]["error"]["error_code"] == "spam_risk_too_many_posts"


def test_transport_failure_on_init_is_never_retried(publisher: Publisher) -> None:
    post_id, _video = _start(publisher)
    publisher.emulator.fault("video_init", "reset")

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "unconfirmed", post
    # Reset before TikTok created anything, but we cannot know that: no second init was attempted.
    assert publisher.tiktok_posts() == []


def test_url_ownership_unverified_falls_back_to_upload(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pull_mode(publisher, monkeypatch, "https://media.example.com")
    post_id, video = _start(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    assert post["transfer"] == "upload"
    task = _one_task(publisher)
    assert task["source"] == "FILE_UPLOAD"
    assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert any("pull refused" in h["note"] for h in post["history"])


@pytest.fixture
def failing_media_server() -> Iterator[tuple[str, list[str]]]:
    """A media host on 127.0.0.1:<ephemeral> answering every request with a 500 (never a fixed port: a
    "nothing listens on port N" URL breaks as soon as something does). Yields its base URL and the paths
    it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _fail(self) -> None:
            asked.append(self.path)
            body = b"internal error"
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = _fail  # noqa: N815 - http.server's method names

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_video_pull_failed_falls_back_to_upload(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch, failing_media_server: tuple[str, list[str]]
) -> None:
    # A verified media host that fails every download: TikTok accepts the URL, then fails the pull.
    base, asked = failing_media_server
    publisher.emulator.configure(verified_url_prefixes=[base + "/"], pull_timeout=2)
    _pull_mode(publisher, monkeypatch, base)
    post_id, video = _start(publisher)

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "published", post
    tasks = publisher.tiktok_posts()
    assert sorted(t["status"] for t in tasks) == ["FAILED", "PUBLISH_COMPLETE"]
    assert {t["fail_reason"] for t in tasks if t["status"] == "FAILED"} == {"video_pull_failed"}
    done = next(t for t in tasks if t["status"] == "PUBLISH_COMPLETE")
    assert done["source"] == "FILE_UPLOAD"
    assert publisher.emulator.received_bytes(done["publish_id"]) == video
    assert asked, "TikTok never tried the media host"


def test_same_idempotency_key_concurrently_makes_one_post(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "upload_id": ticket["upload_id"]},
        "post_info": {"privacy_level": "SELF_ONLY"},
    }
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        barrier.wait(timeout=10)
        answers.append(publisher.publish(body, key="same-key-1"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(a.status for a in answers)
    assert statuses in ([202, 202], [202, 409]), [a.body for a in answers]
    assert len({a.body["post_id"] for a in answers if a.status == 202}) == 1
    listed = publisher.api("GET", "/v1/posts", query={"open_id": open_id})
    assert len(listed.body["posts"]) == 1
    assert len(publisher.messages()) == 1


def test_same_idempotency_key_replays_and_refuses_another_body(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "upload_id": ticket["upload_id"]},
        "post_info": {"privacy_level": "SELF_ONLY", "title": "one"},
    }
    first = publisher.publish(body, key="k-2")
    again = publisher.publish(body, key="k-2")
    other = publisher.publish(
        {**body, "post_info": {"privacy_level": "SELF_ONLY", "title": "two"}}, key="k-2"
    )

    assert first.status == again.status == 202
    assert first.body["post_id"] == again.body["post_id"]
    assert other.status == 409, other.body
    assert len(publisher.messages()) == 1


def _pull_mode(publisher: Publisher, monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    """Switch the wired ports to MEDIA_PULL_MODE=s3 on `base_url` (rebuilt from the environment)."""
    from tiktok_publisher.adapters.s3_media import PullUrlSigner

    monkeypatch.setenv("MEDIA_PULL_MODE", "s3")
    monkeypatch.setenv("MEDIA_PULL_BASE_URL", base_url)
    ports = publisher.ports
    signer = PullUrlSigner("s3", base_url, ports.service.media)
    ports.worker.pull = signer
    ports.service.pull = signer
