"""Pacing each account's TikTok calls within TikTok's per-token limits, shared by every caller (issue 12):
the DynamoDB window log under concurrent callers, a burst of posts through the worker with no 429 at the
emulator, and the API's 429 + Retry-After when an account has no creator_info call left this minute."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pytest

from tests.integration.publishing.conftest import Publisher
from tests.lambdas import LambdaContext, load_function
from tests.media import make_mp4
from tests.unit.connect.events import http_event


def test_concurrent_callers_take_each_slot_once(aws: Any) -> None:
    from tiktok_publisher.adapters.dynamodb import PacingModel
    from tiktok_publisher.adapters.pacing_table import PacingTable

    # Given 15 workers asking for an init slot of one account at the same moment
    now = time.time()
    barrier = threading.Barrier(15)
    waits: list[float] = []
    lock = threading.Lock()

    def ask() -> None:
        barrier.wait(timeout=30)
        wait = PacingTable().reserve("tenant-a", "open-1", "init", now=now)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=ask) for _ in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then exactly TikTok's 6 got one, and the other 9 were each given their own turn, one slot interval
    # (63 s / 6) apart from the moment the first slot frees; the log holds the 6 calls
    assert len(waits) == 15
    assert sum(1 for w in waits if w == 0.0) == 6
    turns = sorted(w for w in waits if w > 0)
    assert turns == pytest.approx([63 + k * 10.5 for k in range(9)], abs=0.01)
    log = PacingModel.get("tenant-a#open-1#init", consistent_read=True)
    assert len(log.times) == 6
    assert log.expires_at > now + 60
    # Another account, and another kind of call, have their own logs
    assert PacingTable().reserve("tenant-a", "open-2", "init", now=now) == 0.0
    assert PacingTable().reserve("tenant-a", "open-1", "status", now=now) == 0.0


def test_a_burst_of_posts_for_one_account_waits_its_turn_without_a_429(publisher: Publisher) -> None:
    # Given 12 posts of one account created at once (twice TikTok's 6 inits a minute per token), and the
    # worker's limiter watched (it still decides: every answer is the real one)
    real = publisher.ports.worker.pacer
    answers: list[tuple[str, float]] = []

    class Watched:
        def reserve(self, tenant_id: str, open_id: str, call: str, *, now: float) -> float:
            wait = real.reserve(tenant_id, open_id, call, now=now)
            answers.append((call, wait))
            return wait

    publisher.ports.worker.pacer = Watched()
    open_id = publisher.connect("creator_private")
    videos: dict[str, bytes] = {}
    for index in range(12):
        video = make_mp4(duration_s=2.0 + index / 10)
        ticket = publisher.upload(video, open_id)
        answer = publisher.publish(
            {
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "video", "upload_id": ticket["upload_id"]},
                "post_info": {"privacy_level": "SELF_ONLY", "title": f"burst {index}"},
            }
        )
        assert answer.status == 202, answer.body
        videos[str(answer.body["post_id"])] = video

    # When the worker drains the queue (ten jobs a batch, as SQS delivers them)
    assert publisher.run_worker(max_batches=400) == 0

    # Then every post is published exactly once, and TikTok never answered 429
    tasks = publisher.tiktok_posts()
    assert len(tasks) == 12
    for post_id, video in videos.items():
        post = publisher.post(post_id)
        assert post["status"] == "published", post
        assert publisher.emulator.received_bytes(post["publish_id"]) == video
    assert len({t["publish_id"] for t in tasks}) == 12
    assert publisher.emulator.rate_limited() == {}
    # The burst waited its turn: some inits were deferred by the limiter (less than a minute each time), and
    # every call the worker made had taken a slot first
    deferred = [wait for call, wait in answers if wait > 0]
    assert deferred, answers
    assert all(0 < wait <= 64 for wait in deferred)
    assert sum(1 for call, wait in answers if call == "init" and wait == 0) == 12


def _use_up_creator_info(tenant: str, open_id: str, now: float) -> None:
    from tiktok_publisher.adapters.pacing_table import PacingTable

    for _ in range(20):
        assert PacingTable().reserve(tenant, open_id, "creator_info", now=now) == 0.0


def test_the_api_answers_429_with_retry_after_when_no_creator_info_call_is_left(
    publisher: Publisher,
) -> None:
    open_id = publisher.connect("creator_private")
    _use_up_creator_info(publisher.tenant, open_id, publisher.clock())

    event = http_event(
        "GET",
        f"/v1/accounts/{open_id}/creator-info",
        tenant_id=publisher.tenant,
        route_key="GET /v1/accounts/{open_id}/creator-info",
        path_parameters={"open_id": open_id},
    )
    raw = load_function("accounts").lambda_handler(event, LambdaContext(function_name="accounts"))
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    post = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY"},
        }
    )

    headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    assert raw["statusCode"] == 429
    assert 1 <= int(headers["retry-after"]) <= 64
    assert '"tiktok_rate_limit"' in raw["body"]
    assert post.status == 429
    assert post.body["error"]["code"] == "tiktok_rate_limit"
    # Refused second, the post's call is given the turn one slot (63 s / 20) after the accounts call's.
    assert 1 <= int(post.headers["retry-after"]) <= math.ceil(63 + 63 / 20)
    assert publisher.tiktok_posts() == []  # nothing was recorded, nothing sent
    assert publisher.messages() == []


@pytest.mark.parametrize("call", ["init", "creator_info", "status"])
def test_every_paced_call_kind_has_tiktoks_limit(aws: Any, call: str) -> None:
    from tiktok_publisher.adapters.pacing_table import PacingTable
    from tiktok_publisher.domain.pacing import CALL_LIMITS

    now = time.time()
    answers = [PacingTable().reserve("t", "o", call, now=now + i / 100) for i in range(CALL_LIMITS[call] + 1)]
    assert answers[:-1] == [0.0] * CALL_LIMITS[call]
    assert answers[-1] > 0
    assert CALL_LIMITS == {"init": 6, "creator_info": 20, "status": 30}


def test_the_openapi_document_describes_the_429() -> None:
    from tiktok_publisher.entrypoints.http.openapi import openapi_document

    paths = openapi_document()["paths"]
    for path, method in (("/v1/posts", "post"), ("/v1/accounts/{open_id}/creator-info", "get")):
        described = paths[path][method]["responses"]["429"]["description"]
        assert "tiktok_rate_limit" in described
        assert "Retry-After" in described
