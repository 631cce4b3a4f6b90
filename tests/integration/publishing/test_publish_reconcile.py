"""Reconciling `unconfirmed` posts: TikTok is asked again (never re-posted) until its 72 h webhook window.

Time is compressed as everywhere here: each delayed job advances the worker's and the emulator's clocks.
"""

from __future__ import annotations

from typing import Any

from tests.integration.publishing.conftest import Publisher
from tests.integration.publishing.test_publish_faults import KillOnce
from tests.media import make_mp4
from tiktok_publisher.domain.jobs import RECONCILE
from tiktok_publisher.domain.status import RECONCILE_DELAY_S, RECONCILE_WINDOW_S, STATUS_TIME_LIMIT_S


def _queued(publisher: Publisher) -> str:
    open_id = publisher.connect("creator_private")
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    answer = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY"},
        }
    )
    assert answer.status == 202, answer.body
    return str(answer.body["post_id"])


def _reconciles(publisher: Publisher) -> list[Any]:
    return [job for job in publisher.jobs if job.kind == RECONCILE]


def test_unconfirmed_after_the_time_limit_is_reconciled_to_published(publisher: Publisher) -> None:
    # Given TikTok that finishes processing 40 minutes after our status time limit
    publisher.emulator.configure(processing_delay=STATUS_TIME_LIMIT_S + 2400)
    post_id = _queued(publisher)

    # When the worker polls past the limit, the post is unconfirmed and a reconcile job is on its way
    publisher.run_worker_until(post_id, "unconfirmed")
    post = publisher.post(post_id)
    assert post["error"]["code"] == "status_timeout"
    assert publisher.delays[-1] == RECONCILE_DELAY_S
    assert len(_reconciles(publisher)) == 1

    # Then the reconcile jobs (900 s apart) find it still processing, then complete
    assert publisher.run_worker() == 0
    post = publisher.post(post_id)
    assert post["status"] == "published", post
    assert post["error"] is None
    assert [h["note"] for h in post["history"]][-1] == "reconciled: PUBLISH_COMPLETE"
    assert len(_reconciles(publisher)) == 3  # processing, processing, then done
    task = publisher.tiktok_posts()
    assert len(task) == 1, task
    assert task[0]["publish_id"] == post["publish_id"]
    events = publisher.events()
    assert [e["detail-type"] for e in events] == ["Post Published"]
    assert events[0]["detail"]["publish_id"] == post["publish_id"]
    assert "error" not in events[0]["detail"]


def test_unconfirmed_whose_task_failed_is_reconciled_to_failed(publisher: Publisher) -> None:
    publisher.emulator.configure(processing_delay=10 * STATUS_TIME_LIMIT_S)
    post_id = _queued(publisher)
    publisher.run_worker_until(post_id, "unconfirmed")

    # When TikTok's task fails before the reconcile job asks
    emulator = publisher.emulator.emulator
    with emulator.store.lock:
        (task,) = list(emulator.store.posts.values())
    emulator.fail_post(task, "video_pull_failed")
    assert publisher.run_worker() == 0

    # Then the post failed with the classified reason, announced once, and nothing was re-posted
    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["code"] == "video_pull_failed"
    assert len(publisher.tiktok_posts()) == 1
    assert [e["detail-type"] for e in publisher.events()] == ["Post Failed"]


def test_reconcile_after_the_window_leaves_the_post_unconfirmed(publisher: Publisher) -> None:
    # Given an unconfirmed post whose reconcile job only runs after the 72 h window
    publisher.emulator.configure(processing_delay=10 * STATUS_TIME_LIMIT_S)
    post_id = _queued(publisher)
    publisher.run_worker_until(post_id, "unconfirmed")
    publisher.advance(RECONCILE_WINDOW_S)
    publisher.emulator.configure(processing_delay=0)  # TikTok has long finished: it is not asked any more
    sent = len(publisher.jobs)

    # When that job is delivered
    assert publisher.run_worker() == 0

    # Then no further job was sent, the post stays unconfirmed, nothing was announced or re-posted
    assert len(publisher.jobs) == sent
    assert publisher.messages() == []
    post = publisher.post(post_id)
    assert post["status"] == "unconfirmed", post
    assert post["error"]["code"] == "status_timeout"
    assert len(publisher.tiktok_posts()) == 1
    assert publisher.events() == []


def test_unconfirmed_without_publish_id_gets_no_reconcile_job(publisher: Publisher) -> None:
    # Given a worker that dies after TikTok answered init but before publish_id was stored
    post_id = _queued(publisher)
    publisher.ports.worker.seams = KillOnce("after_init_call")

    assert publisher.run_worker() == 1

    # Then the post is unconfirmed without a publish_id, and no reconcile job was ever sent
    post = publisher.post(post_id)
    assert post["status"] == "unconfirmed", post
    assert post["publish_id"] is None
    assert _reconciles(publisher) == []
    assert publisher.messages() == []
    assert len(publisher.tiktok_posts()) == 1
