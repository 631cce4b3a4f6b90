"""Webhooks to the SaaS through the local stack, as `make run` runs them: a post published through the gateway
puts "Post Published" on the bus, the stack delivers the template's rule to the fan-out function, the FIFO
queue to the delivery function, and a receiver started here gets a signed POST that the `standardwebhooks`
library verifies. Replay and the delivery log go through the gateway too."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook

from local_stack import LocalStack
from tests.e2e.publishing.test_publish_e2e import User, _quick
from tests.lambdas import ROOT
from tests.media import make_mp4

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]


class Receiver:
    """A receiver on 127.0.0.1 (allowed by the local stack's configuration only); waits are bounded."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.cond:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver.cond.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def wait_for(self, count: int, timeout: float = 90) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(self.received)} of {count} webhooks arrived")
                self.cond.wait(remaining)
            return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_logged(user: User, endpoint_id: str, *, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """The endpoint's delivery log once `count` messages are settled (bounded polling, as wait_terminal)."""
    deadline = time.monotonic() + timeout
    while True:
        log = user.http.get(f"{user.api}/v1/webhook-endpoints/{endpoint_id}/deliveries", timeout=30)
        assert log.status_code == 200, log.text
        deliveries = list(log.json()["deliveries"])
        settled = [d for d in deliveries if d["status"] not in ("pending", "retrying")]
        if len(settled) >= count:
            return deliveries
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries not settled: {deliveries}")
        time.sleep(0.5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    handle = Receiver()
    yield handle
    handle.stop()


def test_a_post_published_through_the_stack_reaches_a_registered_endpoint_signed(
    local_stack: LocalStack, receiver: Receiver
) -> None:
    user = User(local_stack, "tenant-e2e-webhooks")
    _quick(user)
    # Given an endpoint registered through the gateway, for published posts and connections
    created = user.http.post(
        f"{user.api}/v1/webhook-endpoints",
        json={"url": receiver.url, "event_types": ["post.published", "account.connected"]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    # When an account is connected and a video published
    open_id = user.connect("creator_private")
    ticket = user.upload(make_mp4(duration_s=2.0), open_id, "hook.mp4", "video/mp4")
    post = user.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "webhooks"},
        }
    )
    assert user.wait_terminal(post["post_id"])["status"] == "published"
    # Then the receiver got both events (different lanes: the account's and the post's), each verified by the
    # standardwebhooks library
    verifier = Webhook(endpoint["secret"])
    received = receiver.wait_for(2)
    payloads = {p["type"]: p for p in (verifier.verify(body, headers) for headers, body in received)}
    assert set(payloads) == {"account.connected", "post.published"}
    assert payloads["post.published"]["data"]["post_id"] == post["post_id"]
    assert all(isinstance(i, str) for i in payloads["post.published"]["data"]["post_ids"])
    # And the delivery log (through the gateway) shows each attempt's status code and latency (recorded just
    # after the receiver answered)
    deliveries = wait_logged(user, endpoint["endpoint_id"], count=2)
    assert all(d["attempts"][0]["status_code"] == 204 for d in deliveries)
    # When the tenant replays the published event
    published = next(d for d in deliveries if d["event_type"] == "post.published")
    replay = user.http.post(
        f"{user.api}/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries/{published['message_id']}/replay",
        timeout=30,
    )
    assert replay.status_code == 202, replay.text
    # Then it arrives again, same webhook-id, verified again
    headers, body = receiver.wait_for(3)[2]
    assert headers["webhook-id"] == published["message_id"]
    assert verifier.verify(body, headers)["type"] == "post.published"
    # And the bus events the stack handed to the fan-out have EventBridge's shape (events/ sample)
    sample = json.loads((ROOT / "events" / "eventbridge_post_published.json").read_text())
    handed = requests.get(f"{user.api}/_local/deliveries", timeout=30).json()
    fanned = [d for d in handed if d["source"] == "events" and d["function"] == "WebhookFanoutFunction"]
    mine = [d["event"] for d in fanned if d["event"]["detail"].get("post_id") == post["post_id"]]
    assert mine
    assert set(mine[0]) == set(sample)
    assert mine[0]["source"] == "tiktok-publisher"
    assert mine[0]["time"].endswith("Z")


def test_an_unsafe_url_is_refused_through_the_gateway(local_stack: LocalStack) -> None:
    user = User(local_stack, "tenant-e2e-webhooks-ssrf")
    answer = user.http.post(
        f"{user.api}/v1/webhook-endpoints",
        json={"url": "http://169.254.169.254/latest/meta-data/", "event_types": ["post.failed"]},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "unsafe_url"
