"""Managing a post after it was created, in-process against moto and the emulator: PATCH reschedules or edits
a scheduled post (checked against a fresh creator_info, 409 once dispatch has started, a single
conditional write against the dispatcher), and POST .../retry starts a new attempt for a failed post only
when no video can come out of the old one: never twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from ulid import ULID

from tests.integration.publishing.conftest import Answer, Publisher
from tests.media import make_mp4

HOUR = 3600


@pytest.fixture
def changes(publisher: Publisher) -> Publisher:
    """The publisher world with the post-changes logic on its compressed clock and queue."""
    from tiktok_publisher import bootstrap

    wired = bootstrap.ports()
    wired.post_changes.clock = publisher.clock
    wired.post_changes.queue = publisher.ports.worker.queue
    return publisher


def _patch(world: Publisher, post_id: str, body: Any, *, tenant: str | None = None) -> Answer:
    return world.api("PATCH", f"/v1/posts/{post_id}", body=body, tenant=tenant)


def _retry(world: Publisher, post_id: str, *, tenant: str | None = None) -> Answer:
    return world.api("POST", f"/v1/posts/{post_id}/retry", tenant=tenant)


def _dispatch(now: float) -> dict[str, Any]:
    from tiktok_publisher.entrypoints.dispatch import dispatcher

    return dispatcher().dispatch_due(now=int(now))


def _video_post(world: Publisher, open_id: str, **extra: Any) -> dict[str, Any]:
    ticket = world.upload(make_mp4(duration_s=3.0), open_id)
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "upload_id": ticket["upload_id"]},
        "post_info": {"privacy_level": "SELF_ONLY", "title": "original title"},
        **extra,
    }
    answer = world.publish(body)
    assert answer.status == 202, answer.body
    return dict(answer.body)


def _tasks(world: Publisher) -> list[dict[str, Any]]:
    return world.tiktok_posts()


# ---------------------------------------------------------------------- PATCH


def test_a_reschedule_moves_the_publish_time_and_the_dispatcher_follows(changes: Publisher) -> None:
    # Given a post scheduled an hour ahead
    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + HOUR)
    assert post["status"] == "scheduled"

    # When it is moved two hours ahead
    answer = _patch(changes, post["post_id"], {"publish_at": now + 2 * HOUR})

    # Then it waits for the new time, not the old one, and publishes once then
    assert answer.status == 200, answer.body
    assert answer.body["publish_at"] == now + 2 * HOUR
    assert answer.body["status"] == "scheduled"
    assert answer.body["history"][-1]["note"] == "rescheduled"
    assert _dispatch(now + HOUR)["dispatched"] == 0
    assert changes.post(post["post_id"])["status"] == "scheduled"
    assert _dispatch(now + 2 * HOUR)["dispatched"] == 1
    assert changes.run_worker() == 0
    assert changes.post(post["post_id"])["status"] == "published"
    assert len(_tasks(changes)) == 1


def test_an_edited_post_info_is_what_tiktok_receives(changes: Publisher) -> None:
    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + HOUR)

    answer = _patch(
        changes, post["post_id"], {"post_info": {"privacy_level": "SELF_ONLY", "title": "edited #title"}}
    )

    assert answer.status == 200, answer.body
    assert answer.body["post_info"]["title"] == "edited #title"
    assert answer.body["publish_at"] == now + HOUR  # unchanged
    assert _dispatch(now + HOUR)["dispatched"] == 1
    assert changes.run_worker() == 0
    (task,) = _tasks(changes)
    assert task["post_info"]["title"] == "edited #title"
    assert task["post_info"]["privacy_level"] == "SELF_ONLY"


def test_a_change_is_checked_against_a_fresh_creator_info(changes: Publisher) -> None:
    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + HOUR)

    # An unaudited app may only post SELF_ONLY: refused with the field's path, nothing changed
    refused = _patch(changes, post["post_id"], {"post_info": {"privacy_level": "FOLLOWER_OF_CREATOR"}})
    assert refused.status == 422, refused.body
    paths = [f["path"] for f in refused.body["error"]["details"]["fields"]]
    assert "body.post_info.privacy_level" in paths
    assert changes.post(post["post_id"])["post_info"]["title"] == "original title"

    # The creator cannot post today (TikTok's creator_info says so): a reschedule is refused too
    changes.emulator.configure(daily_post_cap=0)
    blocked = _patch(changes, post["post_id"], {"publish_at": now + 2 * HOUR})
    assert blocked.status == 409, blocked.body
    assert blocked.body["error"]["code"] == "creator_cannot_post"
    assert changes.post(post["post_id"])["publish_at"] == now + HOUR


def test_patch_answers_409_once_dispatch_has_started(changes: Publisher) -> None:
    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + HOUR)
    assert _dispatch(now + HOUR)["dispatched"] == 1

    queued = _patch(changes, post["post_id"], {"publish_at": now + 2 * HOUR})
    assert queued.status == 409, queued.body
    assert queued.body["error"]["code"] == "post_not_editable"
    assert queued.body["error"]["details"]["status"] == "queued"

    assert changes.run_worker() == 0
    done = _patch(changes, post["post_id"], {"post_info": {"privacy_level": "SELF_ONLY", "title": "late"}})
    assert done.status == 409
    assert done.body["error"]["details"]["status"] == "published"
    (task,) = _tasks(changes)
    assert task["post_info"]["title"] == "original title"


def test_a_reschedule_landing_first_keeps_the_post_from_a_dispatcher_that_read_it_before(
    changes: Publisher,
) -> None:
    from tiktok_publisher.adapters.posts_table import PostRepository
    from tiktok_publisher.dispatch.dispatcher import DispatchReport
    from tiktok_publisher.entrypoints.dispatch import dispatcher

    # Given a due post the dispatcher has just read from its index
    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + 60)
    stale = PostRepository().get(changes.tenant, post["post_id"])

    # When the user moves it an hour later before the dispatcher writes
    assert _patch(changes, post["post_id"], {"publish_at": now + HOUR}).status == 200
    report = DispatchReport()
    dispatcher()._dispatch_one(stale, now=now + 60, report=report)

    # Then the dispatcher's conditional write loses: the post waits for the new time, no job was sent
    assert report.lost_race == 1
    current = changes.post(post["post_id"])
    assert (current["status"], current["publish_at"]) == ("scheduled", now + HOUR)
    assert changes.messages() == []
    assert _dispatch(now + HOUR)["dispatched"] == 1


def test_a_dispatch_landing_first_makes_the_patch_answer_409(changes: Publisher, monkeypatch: Any) -> None:
    from tiktok_publisher import bootstrap

    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + 60)
    client = bootstrap.ports().post_changes.client
    real = client.creator_info

    def dispatch_meanwhile(token: str) -> Any:
        # The dispatcher runs while the PATCH checks the creator's rules (after its read, before its write).
        assert _dispatch(now + 60)["dispatched"] == 1
        return real(token)

    monkeypatch.setattr(client, "creator_info", dispatch_meanwhile)
    answer = _patch(
        changes, post["post_id"], {"post_info": {"privacy_level": "SELF_ONLY", "title": "too late"}}
    )

    assert answer.status == 409, answer.body
    assert answer.body["error"]["code"] == "post_not_editable"
    monkeypatch.setattr(client, "creator_info", real)  # undo() would also drop the fixtures' environment
    assert changes.run_worker() == 0
    (task,) = _tasks(changes)
    assert task["post_info"]["title"] == "original title"


def test_patch_refuses_bad_bodies_and_other_tenants(changes: Publisher) -> None:
    open_id = changes.connect("creator_private")
    now = int(changes.clock())
    post = _video_post(changes, open_id, publish_at=now + HOUR)
    post_id = post["post_id"]
    for body, path in (
        ({}, "body"),
        ({"publish_at": "soon"}, "body.publish_at"),
        ({"bogus": 1}, "body.bogus"),
        ({"publish_at": now - 3600}, "body.publish_at"),
        ({"publish_at": now + 31 * 86400}, "body.publish_at"),
        ({"post_info": {"privacy_level": "SELF_ONLY", "title": 5}}, "body.post_info.title"),
    ):
        answer = _patch(changes, post_id, body)
        assert answer.status == 422, (body, answer.body)
        assert any(f["path"].startswith(path) for f in answer.body["error"]["details"]["fields"]), answer.body
    from tests.lambdas import LambdaContext, load_function
    from tests.unit.connect.events import http_event

    raw = load_function("publish").lambda_handler(
        http_event("PATCH", f"/v1/posts/{post_id}", raw_body='{"publish_at": ', tenant_id=changes.tenant),
        LambdaContext(),
    )
    assert raw["statusCode"] == 400
    assert _patch(changes, post_id, {"publish_at": now + 2 * HOUR}, tenant="tenant-intruder").status == 404
    assert changes.post(post_id)["publish_at"] == now + HOUR


# ---------------------------------------------------------------------- retry


def test_a_post_tiktok_refused_for_quota_is_retried_once_the_limit_passes(changes: Publisher) -> None:
    # Given a post whose init TikTok refused: the creator reached the daily limit (no task was created)
    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.emulator.configure(daily_post_cap=0)
    assert changes.run_worker() == 0
    failed = changes.post(post["post_id"])
    assert failed["status"] == "failed"
    assert failed["error"]["class"] == "quota"
    assert failed["retry"] == {"allowed": True, "code": "retry_allowed", "reason": failed["retry"]["reason"]}

    # While the limit holds, creator_info says so and nothing is started
    blocked = _retry(changes, post["post_id"])
    assert blocked.status == 409
    assert blocked.body["error"]["code"] == "creator_cannot_post"
    assert changes.post(post["post_id"])["status"] == "failed"

    # When the limit has passed: a new attempt, the failed one kept on the post
    changes.emulator.configure(daily_post_cap=15)
    answer = _retry(changes, post["post_id"])
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "queued"
    first, second = answer.body["attempts"]
    assert (first["number"], first["status"]) == (1, "failed")
    assert first["error"]["code"] == "spam_risk_too_many_posts"
    assert (second["number"], second["status"], second["publish_id"]) == (2, "queued", None)
    assert answer.body["error"] is None
    assert changes.run_worker() == 0
    done = changes.post(post["post_id"])
    assert done["status"] == "published"
    assert [a["status"] for a in done["attempts"]] == ["failed", "published"]
    assert len(_tasks(changes)) == 1  # the refused init made none

    # A published post is not retried
    again = _retry(changes, post["post_id"])
    assert again.status == 409
    assert again.body["error"]["code"] == "post_not_retryable"


def test_a_retry_never_makes_a_second_video_while_tiktok_may_still_publish_the_first(
    changes: Publisher,
) -> None:
    # Given a post whose upload kept failing (TikTok answering 503 to every chunk): failed, with a task at
    # TikTok that has not got every byte and whose upload URL is still valid
    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.emulator.fault("chunk", "5xx", status=503, count=10_000)
    assert changes.run_worker() == 0
    failed = changes.post(post["post_id"])
    assert failed["status"] == "failed", failed
    assert failed["error"]["class"] == "retry"
    old = failed["publish_id"]
    assert old
    assert changes.emulator.post(old)["status"] == "PROCESSING_UPLOAD"
    requests.delete(f"{changes.emulator.base_url}/_admin/faults", timeout=10).raise_for_status()

    # When a retry is asked while that upload could still finish: refused, nothing sent
    unsafe = _retry(changes, post["post_id"])
    assert unsafe.status == 409, unsafe.body
    assert unsafe.body["error"]["code"] == "retry_unsafe"
    assert unsafe.body["error"]["details"]["tiktok_status"] == "PROCESSING_UPLOAD"
    assert len(_tasks(changes)) == 1
    assert changes.messages() == []

    # TikTok not answering the status check: 502, nothing sent
    changes.advance(HOUR + 60)
    changes.emulator.fault("status", "5xx", status=503, count=3)
    down = _retry(changes, post["post_id"])
    assert down.status == 502, down.body
    assert changes.post(post["post_id"])["status"] == "failed"

    # Once its upload URL has expired (an hour after init), no video can come out of it: the retry goes
    answer = _retry(changes, post["post_id"])
    assert answer.status == 202, answer.body
    assert changes.run_worker() == 0
    done = changes.post(post["post_id"])
    assert done["status"] == "published"
    assert done["publish_id"] != old
    assert done["attempts"][0]["publish_id"] == old
    # Exactly one video: the old task never completes, whatever time passes
    changes.advance(24 * HOUR)
    tasks = {t["publish_id"]: t["status"] for t in _tasks(changes)}
    assert tasks == {old: "PROCESSING_UPLOAD", done["publish_id"]: "PUBLISH_COMPLETE"}


def test_two_retries_at_once_make_one_new_attempt(changes: Publisher) -> None:
    from tiktok_publisher import bootstrap
    from tiktok_publisher.domain.errors import DomainError

    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.emulator.configure(daily_post_cap=0)
    assert changes.run_worker() == 0
    changes.emulator.configure(daily_post_cap=15)
    manager = bootstrap.ports().post_changes
    jobs_before = len(changes.jobs)
    start = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def retry(slot: int) -> None:
        start.wait(timeout=30)
        try:
            outcomes[slot] = manager.retry_post(changes.tenant, post["post_id"])
        except DomainError as exc:
            outcomes[slot] = exc

    threads = [threading.Thread(target=retry, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Exactly one retry wins the conditional write, the other is told so; one job, one task
    errors = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(errors) == 1, outcomes
    assert errors[0].code == "post_not_retryable"
    assert len(changes.jobs) == jobs_before + 1
    assert changes.run_worker() == 0
    assert changes.post(post["post_id"])["status"] == "published"
    assert len(changes.post(post["post_id"])["attempts"]) == 2
    assert len(_tasks(changes)) == 1


def test_an_unconfirmed_post_is_never_retried_and_the_api_says_why(changes: Publisher) -> None:
    # Given a post whose init got no answer (the connection was reset): TikTok may have it
    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.emulator.fault("video_init", "reset")
    assert changes.run_worker() == 0
    shown = changes.post(post["post_id"])
    assert shown["status"] == "unconfirmed"
    assert shown["retry"]["allowed"] is False
    assert shown["retry"]["code"] == "post_unconfirmed"
    assert "never sent again" in shown["retry"]["reason"]

    answer = _retry(changes, post["post_id"])

    assert answer.status == 409
    assert answer.body["error"]["code"] == "post_unconfirmed"
    assert "TikTok may already have this post" in answer.body["error"]["message"]
    assert changes.post(post["post_id"])["status"] == "unconfirmed"
    assert changes.messages() == []


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        ("invalid_params", "invalid_request"),
        ("unaudited_client_can_only_post_to_private_accounts", "app_not_audited"),
    ],
)
def test_a_failure_another_attempt_cannot_fix_is_not_retried(
    changes: Publisher, code: str, error_class: str
) -> None:
    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.emulator.fault("video_init", "error200", code=code)
    assert changes.run_worker() == 0
    failed = changes.post(post["post_id"])
    assert failed["error"]["class"] == error_class
    assert failed["retry"]["allowed"] is False

    answer = _retry(changes, post["post_id"])

    assert answer.status == 409
    assert answer.body["error"]["code"] == "post_not_retryable"
    assert answer.body["error"]["message"] == failed["retry"]["reason"]
    assert _tasks(changes) == []


def test_a_reconnect_failure_is_retried_once_the_account_is_connected_again(changes: Publisher) -> None:
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.emulator.fault("video_init", "error200", code="scope_not_authorized")
    assert changes.run_worker() == 0
    assert changes.post(post["post_id"])["error"]["class"] == "reconnect"
    AccountRepository().mark_needs_reconnect(changes.tenant, open_id, "scope_not_authorized")

    refused = _retry(changes, post["post_id"])
    assert refused.status == 409
    assert refused.body["error"]["code"] == "account_needs_reconnect"

    changes.connect("creator_private")
    answer = _retry(changes, post["post_id"])
    assert answer.status == 202, answer.body
    assert changes.run_worker() == 0
    assert changes.post(post["post_id"])["status"] == "published"


def test_a_failure_reported_while_tiktok_still_processes_is_not_retried(changes: Publisher) -> None:
    from tiktok_publisher import bootstrap
    from tiktok_publisher.webhooks.envelope import WebhookEvent

    # Given a post TikTok is still processing, marked failed by a webhook (a posting limit: not a failure the
    # worker answers with a fresh task itself, as it does a pull's or an upload's `internal`)
    changes.emulator.configure(processing_delay=10 * 86400)
    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    changes.run_worker_until(post["post_id"], "processing")
    publish_id = changes.post(post["post_id"])["publish_id"]
    event = WebhookEvent(
        event="post.publish.failed",
        create_time=int(changes.clock()),
        user_openid=open_id,
        content={
            "publish_id": publish_id,
            "reason": "spam_risk_too_many_posts",
            "publish_type": "DIRECT_PUBLISH",
        },
    )
    bootstrap.ports().webhooks.apply(event)
    assert changes.post(post["post_id"])["status"] == "failed"

    # When a retry is asked: TikTok's own status still shows the task alive, so it is refused
    answer = _retry(changes, post["post_id"])

    assert answer.status == 409, answer.body
    assert answer.body["error"]["code"] == "retry_unsafe"
    assert len(_tasks(changes)) == 1


def test_retry_is_scoped_to_the_tenant_and_to_failed_posts(changes: Publisher) -> None:
    open_id = changes.connect("creator_private")
    post = _video_post(changes, open_id)
    queued = _retry(changes, post["post_id"])
    assert queued.status == 409
    assert queued.body["error"]["code"] == "post_not_retryable"
    assert queued.body["error"]["details"]["status"] == "queued"
    assert _retry(changes, post["post_id"], tenant="tenant-intruder").status == 404
    assert _retry(changes, str(ULID())).status == 404
    assert _retry(changes, "not-a-post").status == 422
