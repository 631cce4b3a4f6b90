"""Webhooks: forged/stale/other-secret/malformed requests change nothing; real emulator deliveries over HTTP
move posts and revoke accounts."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from tests.integration.lifecycle.conftest import connect, make_post
from tests.lambdas import LambdaContext
from tests.media import make_mp4
from tiktok_emulator.webhooks import signature_header
from tiktok_publisher.adapters.accounts_table import AccountRepository
from tiktok_publisher.adapters.posts_table import PostRepository
from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.entrypoints.webhook import app

SECRET = "local-dev-client-secret"


def envelope(event: str, open_id: str, content: dict[str, Any], *, create_time: int | None = None) -> str:
    return json.dumps(
        {
            "client_key": "sbawlocaldevkey",
            "event": event,
            "create_time": create_time or int(time.time()),
            "user_openid": open_id,
            "content": json.dumps(content),
        }
    )


def request(body: str, signature: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["tiktok-signature"] = signature
    return {
        "version": "2.0",
        "routeKey": "POST /v1/webhooks/tiktok",
        "rawPath": "/v1/webhooks/tiktok",
        "headers": headers,
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "r",
            "stage": "$default",
            "http": {"method": "POST", "path": "/v1/webhooks/tiktok"},
        },
    }


def state(env: Any, post: Any, open_id: str) -> tuple[Any, ...]:
    stored = PostRepository().get(post.tenant_id, post.post_id)
    account = AccountRepository().get("tenant-a", open_id)
    return stored.status, stored.version, account.status, account.version


@pytest.mark.parametrize(
    ("case", "status"),
    [("forged", 401), ("stale", 401), ("other_secret", 401), ("unsigned", 401), ("malformed", 400)],
)
def test_bad_webhooks_are_rejected_without_side_effects(tiktok_env: Any, case: str, status: int) -> None:
    account = connect(tiktok_env, "tenant-a")
    post = make_post("tenant-a", account.open_id, status="processing", publish_id="v_pub_abc")
    before = state(tiktok_env, post, account.open_id)
    tiktok_env.aws.published_events()
    now = int(time.time())
    body = envelope("post.publish.complete", account.open_id, {"publish_id": "v_pub_abc"})
    removal = envelope("authorization.removed", account.open_id, {"reason": 1})
    signature: str | None
    if case == "forged":
        signature = f"t={now},s={'ab' * 32}"
    elif case == "stale":
        signature = signature_header(SECRET, now - 301, body)
    elif case == "other_secret":
        signature = signature_header("another-apps-secret", now, removal)
        body = removal
    elif case == "unsigned":
        signature = None
    else:
        body = '{"event": "post.publish.complete", "content": '
        signature = signature_header(SECRET, now, body)

    answer = app.resolve(request(body, signature), LambdaContext())

    assert answer["statusCode"] == status
    assert state(tiktok_env, post, account.open_id) == before
    assert AccountRepository().get_tokens("tenant-a", account.open_id)[0]  # tokens untouched
    assert tiktok_env.aws.published_events() == []


def test_signed_events_are_applied_once_and_unknown_publish_ids_are_harmless(tiktok_env: Any) -> None:
    account = connect(tiktok_env, "tenant-a")
    post = make_post("tenant-a", account.open_id, status="processing", publish_id="v_pub_1")
    tiktok_env.aws.published_events()
    now = int(time.time())
    body = envelope("post.publish.complete", account.open_id, {"publish_id": "v_pub_1"})
    signed = request(body, signature_header(SECRET, now, body))

    first = app.resolve(signed, LambdaContext())
    second = app.resolve(signed, LambdaContext())  # TikTok retries: at-least-once
    unknown_body = envelope("post.publish.complete", account.open_id, {"publish_id": "v_pub_nobody"})
    unknown = app.resolve(request(unknown_body, signature_header(SECRET, now, unknown_body)), LambdaContext())

    assert [first["statusCode"], second["statusCode"], unknown["statusCode"]] == [200, 200, 200]
    assert PostRepository().get("tenant-a", post.post_id).status == "published"
    published = [e for e in tiktok_env.aws.published_events() if e["detail-type"] == "Post Published"]
    assert [e["detail"]["post_id"] for e in published] == [post.post_id]

    public = envelope(
        "post.publish.publicly_available",
        account.open_id,
        {"publish_id": "v_pub_1", "post_id": 7390123456789012345},
    )
    assert (
        app.resolve(request(public, signature_header(SECRET, now, public)), LambdaContext())["statusCode"]
        == 200
    )
    assert PostRepository().get("tenant-a", post.post_id).post_ids == ["7390123456789012345"]


def test_a_complete_event_settles_an_unconfirmed_post_and_drops_its_note(tiktok_env: Any) -> None:
    account = connect(tiktok_env, "tenant-a")
    note = {"class": "unknown", "code": "status_timeout", "message": "not confirmed in time", "log_id": None}
    post = make_post(
        "tenant-a", account.open_id, status="unconfirmed", publish_id="v_pub_late", fail_reason=note
    )
    tiktok_env.aws.published_events()
    body = envelope("post.publish.complete", account.open_id, {"publish_id": "v_pub_late"})

    answer = app.resolve(request(body, signature_header(SECRET, int(time.time()), body)), LambdaContext())

    assert answer["statusCode"] == 200
    stored = PostRepository().get("tenant-a", post.post_id)
    assert (stored.status, stored.fail_reason) == ("published", None)
    published = [e for e in tiktok_env.aws.published_events() if e["detail-type"] == "Post Published"]
    assert [("error" in e["detail"], e["detail"]["post_id"]) for e in published] == [(False, post.post_id)]


def test_a_failed_event_fails_the_post_with_its_reason(tiktok_env: Any) -> None:
    account = connect(tiktok_env, "tenant-a")
    post = make_post(
        "tenant-a", account.open_id, status="processing", publish_id="v_pub_2", transfer="upload"
    )
    body = envelope(
        "post.publish.failed", account.open_id, {"publish_id": "v_pub_2", "reason": "duration_check_failed"}
    )
    answer = app.resolve(request(body, signature_header(SECRET, int(time.time()), body)), LambdaContext())
    assert answer["statusCode"] == 200
    stored = PostRepository().get("tenant-a", post.post_id)
    assert stored.status == "failed"
    assert stored.fail_reason is not None
    assert stored.fail_reason["code"] == "duration_check_failed"


def test_a_real_emulator_webhook_moves_the_post(tiktok_env: Any, webhook_receiver: str) -> None:
    emulator = tiktok_env.emulator
    emulator.configure(processing_delay=0)
    account = connect(tiktok_env, "tenant-a", "creator_private")
    access, _ = AccountRepository().get_tokens("tenant-a", account.open_id)
    client = tiktok_env.client()
    video = make_mp4(duration_s=3)
    init = client.init_video(
        access,
        inbox=False,
        post_info={"privacy_level": "SELF_ONLY", "title": "webhook test"},
        source_info={
            "source": "FILE_UPLOAD",
            "video_size": len(video),
            "chunk_size": len(video),
            "total_chunk_count": 1,
        },
    )
    post = make_post(
        "tenant-a", account.open_id, status="processing", publish_id=init.publish_id, transfer="upload"
    )
    assert init.upload_url is not None
    chunk = client.upload_chunk(
        init.upload_url, video, first=0, last=len(video) - 1, total=len(video), content_type="video/mp4"
    )
    assert chunk.complete

    def settled() -> Any:
        stored = PostRepository().get("tenant-a", post.post_id)
        return stored if stored.status != "processing" else None

    stored = emulator.wait_for(settled, timeout=15)
    assert stored.status == "published"
    delivered = emulator.wait_for(
        lambda: [w for w in emulator.webhooks() if w["event"] == "post.publish.complete" and w["delivered"]]
    )
    assert delivered[0]["attempts"][-1]["status"] == 200


def test_authorization_removed_leaves_no_token_in_any_tenant(tiktok_env: Any, webhook_receiver: str) -> None:
    first = connect(tiktok_env, "tenant-a", "creator_public")
    second = connect(tiktok_env, "tenant-b", "creator_public")
    other = connect(tiktok_env, "tenant-a", "creator_private")
    tiktok_env.aws.published_events()

    tiktok_env.emulator.revoke_authorization("creator_public", reason=2)

    repo = AccountRepository()

    def revoked() -> bool:
        return all(repo.get(c.tenant_id, c.open_id).status == "revoked" for c in (first, second))

    tiktok_env.emulator.wait_for(revoked, timeout=15)
    for connected in (first, second):
        account = repo.get(connected.tenant_id, connected.open_id)
        assert account.last_error is not None
        assert "deleted" in account.last_error
        with pytest.raises(NotFound):
            repo.get_tokens(connected.tenant_id, connected.open_id)
        raw = tiktok_env.aws.dynamodb.get_item(
            TableName=tiktok_env.aws.accounts_table,
            Key={"tenant_id": {"S": connected.tenant_id}, "open_id": {"S": connected.open_id}},
        )["Item"]
        assert "access_token_enc" not in raw
        assert "refresh_token_enc" not in raw
        assert "refresh_shard" not in raw
        assert "refresh_due_at" not in raw
    assert repo.get("tenant-a", other.open_id).status == "active"
    events = [e for e in tiktok_env.aws.published_events() if e["detail-type"] == "Account Disconnected"]
    assert sorted(e["detail"]["tenant_id"] for e in events) == ["tenant-a", "tenant-b"]
    assert {e["detail"]["reason_code"] for e in events} == {2}


def test_webhook_endpoint_answers_over_http(tiktok_env: Any, webhook_receiver: str) -> None:
    body = envelope("some.future.event", "u", {})
    answer = requests.post(
        webhook_receiver,
        data=body.encode(),
        headers={
            "TikTok-Signature": signature_header(SECRET, int(time.time()), body),
            "Content-Type": "text/plain",
        },
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json()["result"] == "ignored"
