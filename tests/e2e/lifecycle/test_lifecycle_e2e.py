"""Accounts and posts kept current on their own, through the local stack: the refresh schedule, the S3
upload trigger, signed webhooks from the emulator, and scheduled posts (clock injected via the event)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local_stack import LocalStack
from tests.media import make_mp4
from tiktok_emulator.webhooks import signature_header

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]
TERMINAL = {"published", "inbox", "failed", "cancelled", "unconfirmed"}
CLIENT_SECRET = "local-dev-client-secret"


class User:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.tenant = f"lc-{uuid.uuid4().hex[:10]}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.dev_token(self.tenant, 'user-1')}"
        self.api = stack.gateway_url

    def connect(self, account: str) -> str:
        start = self.http.get(
            f"{self.api}/v1/oauth/tiktok/start", params={"return_to": self.api + "/"}, timeout=30
        )
        assert start.status_code == 200, start.text
        authorize = start.json()["authorize_url"] + f"&auto_approve=1&auto_approve_user={account}"
        to_callback = requests.get(authorize, allow_redirects=False, timeout=30)
        # The browser that started (issue 11: it holds the start's binding cookie) lands on the callback.
        back = self.http.get(to_callback.headers["Location"], allow_redirects=False, timeout=30)
        query = parse_qs(urlsplit(back.headers["Location"]).query)
        assert query.get("tiktok") == ["connected"], query
        return query["open_id"][0]

    def ticket(self, data: bytes, open_id: str) -> dict[str, Any]:
        answer = self.http.post(
            f"{self.api}/v1/uploads",
            json={"open_id": open_id, "filename": "clip.mp4", "content_type": "video/mp4", "size": len(data)},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def put(self, ticket: dict[str, Any], data: bytes) -> None:
        answer = requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=60)
        assert answer.status_code == 200, answer.text[:300]

    def post(self, open_id: str, upload_id: str, **extra: Any) -> dict[str, Any]:
        body = {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": upload_id},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "lifecycle"},
            **extra,
        }
        answer = self.http.post(
            f"{self.api}/v1/posts", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=60
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def get_post(self, post_id: str) -> dict[str, Any]:
        return dict(self.http.get(f"{self.api}/v1/posts/{post_id}", timeout=30).json())

    def wait_post(self, post_id: str, statuses: set[str], timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            post = self.get_post(post_id)
            if post["status"] in statuses:
                return post
            assert time.monotonic() < deadline, f"post stuck in {post['status']}: {post}"
            time.sleep(0.3)

    def account(self, open_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.api}/v1/accounts/{open_id}", timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def item(self, open_id: str) -> dict[str, Any]:
        table = self.stack.function_envs["RefreshFunction"]["ACCOUNTS_TABLE"]
        answer = self.stack.client("dynamodb").get_item(
            TableName=table,
            Key={"tenant_id": {"S": self.tenant}, "open_id": {"S": open_id}},
            ConsistentRead=True,
        )
        return dict(answer["Item"])


def emulator(stack: LocalStack, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{stack.emulator_url}{path}", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def user(local_stack: LocalStack) -> Iterator[User]:
    original = emulator(local_stack, "GET", "/_admin/config")
    keep = {k: original[k] for k in ("access_ttl", "refresh_ttl", "processing_delay", "webhook_url")}
    emulator(local_stack, "POST", "/_admin/config", {"processing_delay": 0.2})
    yield User(local_stack)
    emulator(local_stack, "POST", "/_admin/config", keep)


def fire_refresh(stack: LocalStack) -> dict[str, Any]:
    result = stack.fire_schedule("RefreshSchedule")
    assert result.ok, result.error
    return dict(result.payload)


def dispatch_at(stack: LocalStack, when: int) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/tiktok-publisher-local-dispatch-posts"],
        "detail": {},
    }
    result = stack.invoke("DispatchFunction", event)
    assert result.ok, result.error
    return dict(result.payload)


def test_schedule_refreshes_an_expiring_account_before_a_publish_needs_it(user: User) -> None:
    # A grant ending in 20 days is due for the sweep (its last 30 days); the schedule leaves access tokens
    # alone (they are refreshed on demand), so a 10-minute one is only there to be fresh for the publish.
    emulator(user.stack, "POST", "/_admin/config", {"access_ttl": 600, "refresh_ttl": 20 * 86400})
    open_id = user.connect("creator_private")
    assert user.item(open_id)["version"] == {"N": "1"}

    swept = fire_refresh(user.stack)

    assert swept["refreshed"] >= 1
    assert user.item(open_id)["version"] == {"N": "2"}  # refreshed by the schedule
    video = make_mp4(duration_s=3)
    ticket = user.ticket(video, open_id)
    user.put(ticket, video)
    post = user.post(open_id, ticket["upload_id"])
    assert user.wait_post(post["post_id"], TERMINAL)["status"] == "published"
    assert user.item(open_id)["version"] == {"N": "2"}  # the publish found a fresh token: no refresh


def test_concurrent_scheduled_and_on_demand_refreshes_keep_a_working_refresh_token(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.aws import reset_process_caches
    from tiktok_publisher.adapters.accounts_table import AccountRepository, RefreshStore
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.refresh.core import TokenRefresher

    # Every refresher wants to refresh: on demand (60 s tokens) and the sweep (a grant in its last 30 days).
    emulator(user.stack, "POST", "/_admin/config", {"access_ttl": 60, "refresh_ttl": 20 * 86400})
    open_id = user.connect("creator_public")
    # The on-demand path runs here, on the stack's moto server, with the function's own environment.
    for name, value in user.stack.function_envs["RefreshFunction"].items():
        monkeypatch.setenv(name, value)
    reset_process_caches()
    try:
        client = TikTokClient(
            user.stack.tiktok_api_base, client_key="sbawlocaldevkey", client_secret=CLIENT_SECRET
        )
        refresher = TokenRefresher(
            accounts=AccountRepository(), leases=RefreshStore(), client=client, events=EventPublisher()
        )
        # A caller waits for the lease holder however slow the machine is: no wall-clock give-up.
        refresher.monotonic = lambda: 0.0
        barrier = threading.Barrier(20)
        errors: list[BaseException] = []

        def run(index: int) -> None:
            barrier.wait(timeout=30)
            try:
                if index % 2:
                    fire_refresh(user.stack)
                else:
                    refresher.ensure_fresh_token(user.tenant, open_id, now=int(time.time()))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        assert user.account(open_id)["status"] == "active"
        _access, refresh_token = AccountRepository().get_tokens(user.tenant, open_id)
        assert client.refresh(refresh_token).open_id == open_id  # the stored refresh token still works
    finally:
        reset_process_caches()


def test_revoked_refresh_token_ends_as_needs_reconnect_with_an_event(user: User) -> None:
    stack = user.stack
    sqs, events = stack.client("sqs"), stack.client("events")
    bus = stack.function_envs["RefreshFunction"]["EVENT_BUS_NAME"]
    queue_url = sqs.create_queue(QueueName=f"lc-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"lc-reconnect-{uuid.uuid4().hex[:8]}"
    events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["tiktok-publisher"], "detail-type": ["Account Needs Reconnect"]}),
    )
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    emulator(stack, "POST", "/_admin/config", {"access_ttl": 600, "refresh_ttl": 20 * 86400})  # sweep: due
    open_id = user.connect("creator_nocomments")
    # TikTok kills the grant without telling us (no webhook), so only the refresh can find out.
    emulator(stack, "POST", "/_admin/config", {"webhook_url": None})
    emulator(stack, "POST", "/_admin/revoke-authorization", {"account": "creator_nocomments", "reason": 1})

    fire_refresh(stack)

    account = user.account(open_id)
    assert account["status"] == "needs_reconnect"
    assert account["last_error"].startswith("invalid_grant")
    received: list[dict[str, Any]] = []
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received += [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        if any(e["detail"]["open_id"] == open_id for e in received):
            break
    mine = [e for e in received if e["detail"]["open_id"] == open_id]
    assert len(mine) == 1
    assert mine[0]["detail"]["tenant_id"] == user.tenant


def test_an_access_token_tiktok_ends_early_is_refreshed_on_demand_and_the_account_stays_active(
    user: User,
) -> None:
    # Given an account with the emulator's default lifetimes (2 h access, 180 d refresh): the schedule
    # leaves it alone
    open_id = user.connect("creator_private")
    fire_refresh(user.stack)
    assert user.item(open_id)["version"] == {"N": "1"}
    # and TikTok ending its access token long before the stated 2 hours
    ended = emulator(user.stack, "POST", "/_admin/expire-access-token", {"account": "creator_private"})
    assert ended["ended"] >= 1

    # When the post form asks for creator-info, and a video is posted
    creator = user.http.get(f"{user.api}/v1/accounts/{open_id}/creator-info", timeout=30)
    video = make_mp4(duration_s=3)
    ticket = user.ticket(video, open_id)
    user.put(ticket, video)
    post = user.post(open_id, ticket["upload_id"])

    # Then both went through after one refresh, and the account is still active
    assert creator.status_code == 200, creator.text
    assert user.wait_post(post["post_id"], TERMINAL)["status"] == "published"
    assert user.item(open_id)["version"] == {"N": "2"}  # one refresh, on demand
    account = user.account(open_id)
    assert (account["status"], account["last_error"]) == ("active", None)


def test_video_put_to_its_presigned_url_is_published_once_even_if_s3_repeats(user: User) -> None:
    open_id = user.connect("creator_private")
    video = make_mp4(duration_s=4)
    ticket = user.ticket(video, open_id)
    post = user.post(open_id, ticket["upload_id"])  # the post waits for its upload
    assert post["status"] == "awaiting_upload"

    user.put(ticket, video)  # no further API call

    done = user.wait_post(post["post_id"], TERMINAL)
    assert done["status"] == "published"
    delivery = user.stack.deliveries.wait_for(
        lambda d: d.source == "s3" and ticket["upload_id"] in d.event["Records"][0]["s3"]["object"]["key"],
        timeout=10,
    )
    again = user.stack.invoke("S3UploadFunction", delivery.event)  # S3 delivers at least once
    assert again.ok, again.error
    assert again.payload == {"outcomes": ["duplicate"]}
    final = user.get_post(post["post_id"])
    assert final["status"] == "published"
    assert final["publish_id"] == done["publish_id"]
    assert [h["note"] for h in final["history"]].count("upload received") == 1


def test_forged_stale_foreign_and_malformed_webhooks_are_rejected(user: User) -> None:
    url = f"{user.api}/v1/webhooks/tiktok"
    open_id = user.connect("creator_public")
    before = user.account(open_id)
    now = int(time.time())
    body = json.dumps(
        {"client_key": "sbawlocaldevkey", "event": "authorization.removed", "create_time": now,
         "user_openid": open_id, "content": json.dumps({"reason": 1})}
    )  # fmt: skip
    cases = {
        "forged": (body, f"t={now},s={'0' * 64}", 401),
        "stale": (body, signature_header(CLIENT_SECRET, now - 600, body), 401),
        "other secret": (body, signature_header("another-app-secret", now, body), 401),
        "unsigned": (body, None, 401),
        "malformed": ("{not json", signature_header(CLIENT_SECRET, now, "{not json"), 400),
    }
    for name, (payload, signature, status) in cases.items():
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["TikTok-Signature"] = signature
        answer = requests.post(url, data=payload.encode(), headers=headers, timeout=30)
        assert answer.status_code == status, (name, answer.text)
    after = user.account(open_id)
    assert after == before
    assert after["status"] == "active"


def test_real_webhook_from_the_emulator_moves_the_post(user: User) -> None:
    open_id = user.connect("creator_private")
    video = make_mp4(duration_s=3)
    ticket = user.ticket(video, open_id)
    user.put(ticket, video)
    post = user.post(open_id, ticket["upload_id"])
    done = user.wait_post(post["post_id"], TERMINAL)
    assert done["status"] == "published"
    # TikTok finishes in 0.2 s; the worker's first status poll is 5 s after the upload: the webhook won.
    assert "post.publish.complete" in [h["note"] for h in done["history"]]
    deadline = time.monotonic() + 15
    while True:  # the emulator records the attempt once our answer is back
        records = emulator(user.stack, "GET", "/_admin/webhooks")
        mine = [
            r for r in records if r["event"] == "post.publish.complete" and done["publish_id"] in r["body"]
        ]
        if mine and mine[0]["attempts"]:
            break
        assert time.monotonic() < deadline, "webhook delivery not recorded"
        time.sleep(0.2)
    assert mine[0]["attempts"][0]["status"] == 200


def test_authorization_removed_leaves_no_token_in_the_table(user: User, local_stack: LocalStack) -> None:
    other = User(local_stack)
    open_id = user.connect("creator_banned")
    assert other.connect("creator_banned") == open_id

    emulator(local_stack, "POST", "/_admin/revoke-authorization", {"account": "creator_banned", "reason": 4})

    deadline = time.monotonic() + 30
    while not all(u.account(open_id)["status"] == "revoked" for u in (user, other)):
        assert time.monotonic() < deadline, "authorization.removed not applied"
        time.sleep(0.3)
    for who in (user, other):
        item = who.item(open_id)
        assert not {"access_token_enc", "refresh_token_enc", "refresh_shard"} & set(item)
        assert "banned" in who.account(open_id)["last_error"]


def test_scheduled_post_is_published_after_its_time_not_before_and_a_cancelled_one_never(user: User) -> None:
    open_id = user.connect("creator_private")
    now = int(time.time())
    publish_at = now + 60
    video = make_mp4(duration_s=3)
    posts = []
    for _ in range(2):
        ticket = user.ticket(video, open_id)
        user.put(ticket, video)
        posts.append(user.post(open_id, ticket["upload_id"], publish_at=publish_at))
    keep, cancel = posts
    assert keep["status"] == cancel["status"] == "scheduled"
    assert (
        user.http.delete(f"{user.api}/v1/posts/{cancel['post_id']}", timeout=30).json()["status"]
        == "cancelled"
    )

    early = dispatch_at(user.stack, publish_at - 30)
    assert early["dispatched"] == 0
    time.sleep(1)
    assert user.get_post(keep["post_id"])["status"] == "scheduled"

    dispatch_at(user.stack, publish_at + 1)

    assert user.wait_post(keep["post_id"], TERMINAL)["status"] == "published"
    dispatch_at(user.stack, publish_at + 120)
    assert user.get_post(cancel["post_id"])["status"] == "cancelled"
    assert user.get_post(cancel["post_id"])["publish_id"] is None
