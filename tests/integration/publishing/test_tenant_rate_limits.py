"""Issue 11: per-tenant rate limits on POST /v1/uploads and POST /v1/posts, counted in DynamoDB so every
container shares them; 429 with Retry-After beyond the allowance; other tenants unaffected."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.integration.publishing.conftest import Publisher
from tiktok_publisher.domain.limits import WINDOW_S


def _limits(monkeypatch: pytest.MonkeyPatch, *, uploads: int = 0, posts: int = 0) -> None:
    from tiktok_publisher import bootstrap, config

    monkeypatch.setenv("RATE_LIMIT_UPLOADS_PER_MINUTE", str(uploads))
    monkeypatch.setenv("RATE_LIMIT_POSTS_PER_MINUTE", str(posts))
    config.reset_caches()
    bootstrap.reset()


def _upload(publisher: Publisher, open_id: str, tenant: str | None = None) -> object:
    return publisher.api(
        "POST",
        "/v1/uploads",
        body={"open_id": open_id, "filename": "a.mp4", "content_type": "video/mp4", "size": 1000},
        tenant=tenant,
    )


def test_uploads_beyond_the_allowance_get_429_with_retry_after(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an allowance of 3 uploads a minute per tenant
    _limits(monkeypatch, uploads=3)
    open_id = publisher.connect("creator_private")
    other_open_id = publisher.connect("creator_public", tenant="tenant-other")

    # When the tenant asks for a 4th upload URL within the minute
    statuses = [_upload(publisher, open_id).status for _ in range(3)]  # type: ignore[attr-defined]
    refused = _upload(publisher, open_id)

    # Then the first three were signed and the fourth is refused with a clear body and Retry-After
    assert statuses == [201, 201, 201]
    assert refused.status == 429  # type: ignore[attr-defined]
    body = refused.body  # type: ignore[attr-defined]
    assert body["error"]["code"] == "rate_limited"
    assert "at most 3 a minute" in body["error"]["message"]
    retry_after = int(refused.headers["retry-after"])  # type: ignore[attr-defined]
    assert 1 <= retry_after <= WINDOW_S
    assert body["error"]["details"] == {"limit": 3, "window_s": WINDOW_S, "retry_after": retry_after}
    # And another tenant still has its own allowance
    assert _upload(publisher, other_open_id, tenant="tenant-other").status == 201  # type: ignore[attr-defined]


def test_posts_beyond_the_allowance_get_429_and_create_nothing(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limits(monkeypatch, posts=2)
    open_id = publisher.connect("creator_private")
    body = {
        "open_id": open_id,
        "mode": "inbox",
        "media": {"type": "video", "url": "https://media.example.com/a.mp4"},
    }

    answers = [publisher.publish(body, key=uuid.uuid4().hex) for _ in range(3)]

    assert [a.status for a in answers[:2]] == [202, 202], [a.body for a in answers]
    assert answers[2].status == 429
    assert answers[2].body["error"]["code"] == "rate_limited"
    assert "retry-after" in answers[2].headers
    # The refused request never reached the service: no third post exists
    page = publisher.api("GET", "/v1/posts", query={"open_id": open_id})
    assert len(page.body["posts"]) == sum(a.status == 202 for a in answers[:2])


def test_limits_off_when_zero(publisher: Publisher, monkeypatch: pytest.MonkeyPatch) -> None:
    _limits(monkeypatch, uploads=0)
    open_id = publisher.connect("creator_private")

    assert {_upload(publisher, open_id).status for _ in range(5)} == {201}  # type: ignore[attr-defined]


def test_window_is_shared_and_exact_under_concurrency(aws: object) -> None:
    from tiktok_publisher.adapters.rate_limit_table import DynamoRateLimiter

    # Given one window with room for 5, and 20 requests racing for it from 20 threads (20 containers)
    limiter = DynamoRateLimiter()
    now = 1_800_000_000.0
    results: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        allowed = limiter.hit("tenant-a#posts", limit=5, window_s=60, now=now).allowed
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then exactly 5 got through, and the next window starts afresh
    assert sorted(results).count(True) == 5
    later = limiter.hit("tenant-a#posts", limit=5, window_s=60, now=now + 60)
    assert later.allowed
    assert later.remaining == 4
    refused = limiter.hit("tenant-a#posts", limit=5, window_s=60, now=now + 30)
    assert not refused.allowed
    assert refused.retry_after == 30
