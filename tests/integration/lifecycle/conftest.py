"""Lifecycle integration helpers: accounts connected with real emulator tokens, posts, a webhook receiver."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ulid import ULID


@pytest.fixture(autouse=True)
def _fresh_wiring() -> Iterator[None]:
    from tiktok_publisher.bootstrap import reset

    reset()
    yield
    reset()


@dataclass
class Connected:
    tenant_id: str
    open_id: str
    refresh_token: str


def connect(
    env: Any,
    tenant_id: str,
    account: str = "creator_public",
    *,
    now: int | None = None,
    refresh_expires_in: int | None = None,
) -> Connected:
    """Real emulator tokens for `account`, stored for `tenant_id` as if connected at `now` (with the grant
    ending `refresh_expires_in` seconds after it, when given, instead of the emulator's lifetime)."""
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.tiktok_client import token_set_from
    from tiktok_publisher.domain.tiktok import UserInfo

    answer = env.emulator.issue_token(account)
    tokens = token_set_from(answer)
    if refresh_expires_in is not None:
        tokens = tokens.model_copy(update={"refresh_expires_in": refresh_expires_in})
    AccountRepository().save_connection(
        tenant_id, tokens.open_id, UserInfo(open_id=tokens.open_id, display_name=account), tokens,
        now=int(now if now is not None else time.time()),
    )  # fmt: skip
    return Connected(tenant_id, tokens.open_id, tokens.refresh_token)


def make_post(tenant_id: str, open_id: str, *, status: str, **fields: Any) -> Any:
    """A post row as the publish API would have written it."""
    from tiktok_publisher.adapters.posts_table import PostRepository
    from tiktok_publisher.domain.posts import Post, iso_now

    now = time.time()
    post = Post(
        tenant_id=tenant_id,
        post_id=str(ULID()),
        open_id=open_id,
        created_at=iso_now(now),
        mode=fields.pop("mode", "direct"),
        media="video",
        status=status,
        source=fields.pop("source", {"kind": "url", "url": "https://media.example.com/v.mp4"}),
        post_info={"privacy_level": "SELF_ONLY"},
        upload_id=fields.pop("upload_id", None),
        publish_at=fields.pop("publish_at", None),
    )
    repo = PostRepository()
    created = repo.create(post, now=now)
    if fields:
        updated = repo.update(created, now=now, set_fields=fields)
        assert updated is not None
        return updated
    return created


def queue_messages(aws: Any, *, polls: int = 2) -> list[dict[str, Any]]:
    """Publish-queue messages (bodies parsed), consumed."""
    import json

    found: list[dict[str, Any]] = []
    for _ in range(polls):
        answer = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10)
        for message in answer.get("Messages", []):
            found.append(json.loads(message["Body"]))
            aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not answer.get("Messages"):
            break
    return found


class _Receiver(BaseHTTPRequestHandler):
    handle_event: Callable[[dict[str, Any]], dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        event = {
            "version": "2.0",
            "routeKey": "POST /v1/webhooks/tiktok",
            "rawPath": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "requestContext": {
                "requestId": "r",
                "stage": "$default",
                "http": {"method": "POST", "path": self.path},
            },
            "body": base64.b64encode(body).decode(),  # as API Gateway passes unknown types: the worst case
            "isBase64Encoded": True,
        }
        answer = type(self).handle_event(event)
        payload = answer["body"].encode()
        self.send_response(answer["statusCode"])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def webhook_receiver(tiktok_env: Any) -> Iterator[str]:
    """An HTTP endpoint on 127.0.0.1:<ephemeral> that runs the webhook handler in-process; the emulator
    is configured to deliver its webhooks there."""
    from tests.lambdas import LambdaContext
    from tiktok_publisher.entrypoints.webhook import app

    handler = type(
        "Receiver", (_Receiver,), {"handle_event": staticmethod(lambda e: app.resolve(e, LambdaContext()))}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/webhooks/tiktok"
    tiktok_env.emulator.configure(webhook_url=url, webhook_retry_delays=[0.2], webhook_max_attempts=2)
    yield url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
