"""Deliveries: signed (Standard Webhooks, verified with the `standardwebhooks` library), retried with growing
delays, in order per post, replayed on request, given up and the endpoint disabled when it keeps failing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.integration.webhooks.conftest import Hooks, Receiver, VirtualClock

POST_ID = "01JD3Q8Z5N3Y8X4W6V2T0R9S7P"
BIG_ID = "7390123456789012345"  # int64: a float would round it to ...012344 or ...012352


def published(post_id: str = POST_ID) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "open_id": "open-creator-1",
        "mode": "direct",
        "media_type": "video",
        "status": "published",
        "publish_id": "v_pub_file~v2-1.7390",
        "post_ids": [BIG_ID],
    }


def signature_ok(secret: str, request: Any) -> bool:
    """The library's own signer agrees with one of the signatures (for virtual times the library's verify()
    would refuse as "too new": it checks the timestamp against the real clock)."""
    stamp = dt.datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=dt.UTC)
    expected = Webhook(secret).sign(request.headers["webhook-id"], stamp, request.body)
    return expected in request.headers["webhook-signature"].split(" ")


def run_out_of_retries(hooks: Hooks, clock: VirtualClock, endpoint_id: str) -> dict[str, Any]:
    """Deliver the endpoint's one message, then wait for each announced retry until there is none."""
    assert hooks.deliver() == 1
    for _ in range(20):
        (delivery,) = hooks.deliveries(endpoint_id)
        if delivery["status"] != "retrying":
            return delivery
        clock.advance(dt.datetime.fromisoformat(delivery["next_attempt_at"]).timestamp() - clock() + 1)
        assert hooks.deliver() == 1
    raise AssertionError("retries never ended")


def test_a_published_post_reaches_the_receiver_signed_and_the_library_verifies_it(
    hooks: Hooks, receiver: Receiver
) -> None:
    # Given an endpoint subscribed to post.published
    endpoint = hooks.register(receiver.url, ("post.published", "post.failed"))
    assert endpoint["secret"].startswith("whsec_")
    # When a post is published (the event on the bus, the rule's fan-out, the queue's delivery)
    event = hooks.emit("Post Published", published())
    assert hooks.deliver() == 1
    # Then the receiver got one POST that the standardwebhooks library verifies
    (request,) = receiver.received
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "post.published"
    assert payload["data"]["post_id"] == POST_ID
    assert payload["data"]["tenant_id"] == "tenant-a"
    # ... with the int64 post id as the exact string, never a float
    assert f'"{BIG_ID}"' in request.body.decode()
    assert payload["data"]["post_ids"] == [BIG_ID]
    assert payload["timestamp"] == event["time"]
    assert request.path == "/hooks/tiktok?source=publisher"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    # And the delivery log shows the attempt: status code, latency, attempt number
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    assert delivery["message_id"] == request.headers["webhook-id"]
    assert delivery["status"] == "succeeded"
    assert delivery["attempt_count"] == 1
    (attempt,) = delivery["attempts"]
    assert attempt["number"] == 1
    assert attempt["status_code"] == 200
    assert attempt["latency_ms"] >= 0
    assert attempt["error"] is None
    # And nothing is left in the queue
    assert hooks.visible() == []


def test_only_subscribed_types_and_enabled_endpoints_receive(hooks: Hooks, receiver: Receiver) -> None:
    # Given one endpoint for failures only, and one disabled by its tenant
    failures = hooks.register(receiver.url, ("post.failed",))
    off = hooks.register(receiver.url, ("post.published",))
    assert (
        hooks.api("PATCH", f"/v1/webhook-endpoints/{off['endpoint_id']}", body={"enabled": False}).status
        == 200
    )
    # When a post is published
    hooks.emit("Post Published", published())
    # Then nobody is called and nothing is queued
    assert hooks.deliver() == 0
    assert receiver.received == []
    assert hooks.deliveries(failures["endpoint_id"]) == []


def test_a_receiver_answering_500_sees_retries_with_growing_delays_then_success(
    hooks: Hooks, receiver: Receiver, clock: VirtualClock
) -> None:
    # Given a receiver that fails three times, then works
    receiver.statuses = [500, 500, 503, 200]
    endpoint = hooks.register(receiver.url)
    hooks.emit("Post Published", published())
    started = clock()
    waits: list[float] = []
    # When the queue is pumped, and time moves only as far as each announced retry
    assert hooks.deliver() == 1
    for _ in range(3):
        (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
        assert delivery["status"] == "retrying"
        wait = dt.datetime.fromisoformat(delivery["next_attempt_at"]).timestamp() - int(clock())
        waits.append(wait)
        # Not a moment early: the message stays in flight until its delay is over
        clock.advance(wait - 1)
        assert hooks.deliver() == 0
        clock.advance(1.5)
        assert hooks.deliver() == 1
    # Then the waits grew (5 s, 5 min, 30 min) and the fourth attempt succeeded
    assert waits == [5, 300, 1800]
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 503, 200]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3, 4]
    # And every attempt carried the same webhook-id, a current timestamp and a valid signature
    assert len(receiver.received) == 4
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.received]
    assert stamps[-1] - stamps[0] >= sum(waits)
    assert stamps[0] >= int(started)
    assert all(signature_ok(endpoint["secret"], r) for r in receiver.received)
    assert hooks.visible() == []


def test_events_of_one_post_stay_in_order_while_other_posts_go_on(
    hooks: Hooks, receiver: Receiver, clock: VirtualClock
) -> None:
    # Given an endpoint that is down for the first request only
    receiver.statuses = [500, 200]
    hooks.register(receiver.url, ("post.published", "post.failed", "post.sent_to_inbox"))
    # When two events of one post and one of another post are fanned out
    hooks.emit("Post Sent To Inbox", {**published(), "status": "inbox"})
    hooks.emit("Post Published", published())
    other = "01JD3Q8Z5N3Y8X4W6V2T0R9S7Q"
    hooks.emit("Post Failed", {**published(other), "status": "failed"})
    hooks.drain()
    # Then the first event of the post failed and holds its post back; the other post got through
    first = [(r.json()["type"], r.json()["data"]["post_id"]) for r in receiver.received]
    assert first == [("post.sent_to_inbox", POST_ID), ("post.failed", other)]
    # When the retry delay is over
    clock.advance(6)
    hooks.drain()
    # Then the post's events arrive in the order they happened
    types = [(r.json()["type"], r.json()["data"]["post_id"]) for r in receiver.received]
    assert types == [
        ("post.sent_to_inbox", POST_ID),
        ("post.failed", other),
        ("post.sent_to_inbox", POST_ID),
        ("post.published", POST_ID),
    ]


def test_retries_last_over_a_day_then_the_message_fails(
    hooks: Hooks, receiver: Receiver, clock: VirtualClock
) -> None:
    # Given a receiver that always answers 500
    receiver.statuses = [500]
    endpoint = hooks.register(receiver.url)
    hooks.emit("Post Published", published())
    started = clock()
    # When every announced retry is waited for
    delivery = run_out_of_retries(hooks, clock, endpoint["endpoint_id"])
    # Then 8 attempts spanned more than 24 hours, and the message is failed (not retried any more)
    assert delivery["status"] == "failed"
    assert delivery["attempt_count"] == 8
    assert clock() - started > 24 * 3600
    clock.advance(12 * 3600)
    assert hooks.deliver() == 0
    assert len(receiver.received) == 8
    # And the endpoint is still enabled (it has failed for 27 h, not 5 days), with its failure clock running
    answer = hooks.api("GET", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}")
    assert answer.body["status"] == "enabled"
    assert answer.body["failing_since"] is not None


def test_an_endpoint_failing_for_five_days_is_disabled_with_an_event(
    hooks: Hooks, receiver: Receiver, clock: VirtualClock, aws: Any
) -> None:
    # Given a broken endpoint, and a second endpoint subscribed to endpoint changes
    broken = Receiver(statuses=[500]).start()
    try:
        endpoint = hooks.register(broken.url)
        watcher = hooks.register(receiver.url, ("webhook_endpoint.disabled",))
        hooks.emit("Post Published", published())
        started = clock()
        run_out_of_retries(hooks, clock, endpoint["endpoint_id"])
        # When it still fails five days after its first failure
        clock.advance(started + 5 * 24 * 3600 - clock())
        hooks.emit("Post Published", published("01JD3Q8Z5N3Y8X4W6V2T0R9S7R"))
        hooks.drain()
    finally:
        broken.stop()
    # Then it is disabled, says since when it failed and why
    answer = hooks.api("GET", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}")
    assert answer.body["status"] == "disabled"
    assert answer.body["disabled_reason"] == "failing"
    # And the bus carried "Webhook Endpoint Disabled", which reached the other endpoint
    (event,) = [e for e in aws.published_events() if e["detail-type"] == "Webhook Endpoint Disabled"]
    assert event["detail"]["endpoint_id"] == endpoint["endpoint_id"]
    hooks.fan_out(event)
    hooks.drain()
    (notice,) = receiver.received
    assert notice.json()["type"] == "webhook_endpoint.disabled"
    assert signature_ok(watcher["secret"], notice)
    assert notice.json()["data"]["reason"] == "failing"
    # And messages still queued for it are skipped, not sent
    clock.advance(12 * 3600)
    hooks.drain()
    statuses = {d["status"] for d in hooks.deliveries(endpoint["endpoint_id"])}
    assert statuses <= {"skipped", "failed"}
    assert "skipped" in statuses
    # When the tenant enables it again, its failure clock starts over
    enabled = hooks.api("PATCH", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}", body={"enabled": True})
    assert enabled.status == 200
    assert (enabled.body["status"], enabled.body["failing_since"]) == ("enabled", None)


def test_replay_resends_one_event(hooks: Hooks, receiver: Receiver, clock: VirtualClock) -> None:
    # Given a message delivered once
    endpoint = hooks.register(receiver.url)
    hooks.emit("Post Published", published())
    hooks.drain()
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    path = f"/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries/{delivery['message_id']}/replay"
    clock.advance(60)
    # When the tenant replays it
    answer = hooks.api("POST", path)
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "pending"
    # Then a second replay while it is queued is refused
    assert hooks.api("POST", path).status == 409
    hooks.drain()
    # And the receiver got it again: same webhook-id and body, a new timestamp, a valid signature
    first, again = receiver.received
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.body == first.body
    assert int(again.headers["webhook-timestamp"]) >= int(first.headers["webhook-timestamp"]) + 60
    assert signature_ok(endpoint["secret"], again)
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    assert delivery["status"] == "succeeded"
    assert [(a["number"], a["replay"]) for a in delivery["attempts"]] == [(1, False), (2, True)]
    # And another tenant cannot replay it, nor see it
    assert hooks.api("POST", path, tenant="tenant-b").status == 404
    listing = hooks.api(
        "GET", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries", tenant="tenant-b"
    )
    assert listing.status == 404
    # And an unknown message is 404
    unknown = path.replace(delivery["message_id"], "msg_" + "0" * 26)
    assert hooks.api("POST", unknown).status == 404


def test_the_same_bus_event_twice_is_one_delivery(hooks: Hooks, receiver: Receiver) -> None:
    # Given an event EventBridge hands to the fan-out twice (at-least-once)
    endpoint = hooks.register(receiver.url)
    event = hooks.emit("Post Published", published())
    hooks.fan_out(event)
    hooks.drain()
    # Then one row, one POST
    assert len(hooks.deliveries(endpoint["endpoint_id"])) == 1
    assert len(receiver.received) == 1


def test_a_rotated_secret_signs_alongside_the_old_one_for_a_day(
    hooks: Hooks, receiver: Receiver, clock: VirtualClock
) -> None:
    # Given an endpoint whose secret was rotated
    endpoint = hooks.register(receiver.url)
    rotated = hooks.api("POST", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}/rotate-secret")
    assert rotated.status == 200
    new_secret = rotated.body["secret"]
    assert new_secret != endpoint["secret"]
    # When a message goes out within the day
    hooks.emit("Post Published", published())
    hooks.drain()
    # Then receivers holding either secret verify it
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new_secret).verify(request.body, request.headers)
    assert Webhook(endpoint["secret"]).verify(request.body, request.headers)
    # And after the day, only the new one
    clock.advance(24 * 3600 + 1)
    hooks.emit("Post Published", published("01JD3Q8Z5N3Y8X4W6V2T0R9S7R"))
    hooks.drain()
    later = receiver.received[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    assert signature_ok(new_secret, later)
    assert not signature_ok(endpoint["secret"], later)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(302, b"", None), (200, b"x" * (1024 * 1024), None), (410, b"gone", None)],
    ids=["redirect-not-followed", "huge-answer-capped", "gone"],
)
def test_answers_are_taken_as_they_come_no_redirect_no_unbounded_read(
    hooks: Hooks, receiver: Receiver, status: int, body: bytes, error: str | None
) -> None:
    # Given a receiver answering a redirect to somewhere else, a 1 MiB body, or 410
    receiver.statuses = [status]
    receiver.answer_body = body
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"} if status == 302 else {}
    endpoint = hooks.register(receiver.url)
    hooks.emit("Post Published", published())
    hooks.drain()
    # Then exactly one request went out (the redirect was not followed) and its status is what counted
    assert len(receiver.received) == 1
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    assert delivery["attempts"][0]["status_code"] == status
    assert delivery["status"] == ("succeeded" if status == 200 else "retrying")


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(hooks: Hooks) -> None:
    import socket

    from tiktok_publisher import bootstrap

    # Given a "receiver" that accepts connections and never answers
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        bootstrap.ports(secrets=False).webhook_transport.total_timeout = 0.5
        endpoint = hooks.register(f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        hooks.emit("Post Published", published())
        hooks.drain()
    finally:
        silent.close()
    # Then the attempt ended on the timeout and is retried later
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    assert (delivery["status"], delivery["attempts"][0]["error"]) == ("retrying", "timeout")
    assert delivery["attempts"][0]["status_code"] is None


def test_a_deleted_endpoint_gets_nothing_more(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url)
    hooks.emit("Post Published", published())
    # When the endpoint is deleted before the queued message is delivered
    assert hooks.api("DELETE", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}").status == 204
    hooks.drain()
    # Then nothing is sent
    assert receiver.received == []
    assert hooks.api("GET", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}").status == 404


def test_unreadable_queue_messages_are_dropped_not_retried_forever(hooks: Hooks, aws: Any) -> None:
    aws.sqs.send_message(
        QueueUrl=aws.webhook_queue_url,
        MessageBody=json.dumps({"hello": "world"}),
        MessageGroupId="g",
        MessageDeduplicationId="d",
    )
    assert hooks.deliver() == 1
    assert hooks.visible() == []
