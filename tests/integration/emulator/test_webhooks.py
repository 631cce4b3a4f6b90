"""§7 webhooks: body shape, content as a JSON string, TikTok-Signature, retries, event kinds."""

from __future__ import annotations

import json
from collections.abc import Callable

import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import TIMEOUT, Api, Receiver, file_source, put_chunk, verify_signature


def events(emulator: EmulatorHandle, receiver: Receiver, count: int) -> list[dict]:
    emulator.wait_for(lambda: len(receiver.received) >= count)
    return [json.loads(body) for _, body in receiver.received]


def uploaded_post(client: Api, privacy: str = "SELF_ONLY", data: bytes | None = None) -> str:
    data = data or fake_mp4(4000)
    body = client.init_direct(privacy, file_source(len(data))).json()["data"]
    assert put_chunk(body["upload_url"], data, 0, len(data)).status_code == 201
    return str(body["publish_id"])


def test_signed_complete_and_public_events(
    emulator: EmulatorHandle, api: Callable[..., Api], receiver: Receiver
) -> None:
    emulator.configure(webhook_url=receiver.url, audited=True)
    client = api("creator_public")
    publish_id = uploaded_post(client, "PUBLIC_TO_EVERYONE")
    emulator.advance(1)
    received = events(emulator, receiver, 2)
    secret = emulator.config.client_secret
    for headers, raw in receiver.received:
        # Verified against the emulator clock's notion of now (it may run ahead of wall time).
        assert verify_signature(secret, headers["TikTok-Signature"], raw, now=emulator.emulator.clock.now())
    complete, public = received
    assert set(complete) == {"client_key", "event", "create_time", "user_openid", "content"}
    assert complete["client_key"] == emulator.config.client_key
    assert complete["event"] == "post.publish.complete"
    assert complete["user_openid"] == emulator.emulator.account("creator_public").open_id
    assert isinstance(complete["content"], str)
    assert json.loads(complete["content"]) == {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"}
    assert public["event"] == "post.publish.publicly_available"
    content = json.loads(public["content"])
    status = client.status(publish_id).json()["data"]
    assert int(content["post_id"]) == status["publicaly_available_post_id"][0]


def test_forged_or_stale_signatures_are_rejected(
    emulator: EmulatorHandle, api: Callable[..., Api], receiver: Receiver
) -> None:
    emulator.configure(webhook_url=receiver.url)
    uploaded_post(api("creator_private"))
    emulator.advance(1)
    events(emulator, receiver, 1)
    headers, raw = receiver.received[0]
    header = headers["TikTok-Signature"]
    now = emulator.emulator.clock.now()
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert verify_signature("local-dev-client-secret", header, raw, now=now)
    assert not verify_signature("another-secret", header, raw, now=now)
    assert not verify_signature("local-dev-client-secret", header, raw + b" ", now=now)
    assert not verify_signature("local-dev-client-secret", header, raw, now=timestamp + 301)
    forged = header.replace(f"t={timestamp}", f"t={timestamp + 1}")
    assert not verify_signature("local-dev-client-secret", forged, raw, now=now)


def test_inbox_and_failed_events(
    emulator: EmulatorHandle, api: Callable[..., Api], receiver: Receiver
) -> None:
    emulator.configure(webhook_url=receiver.url)
    client = api("creator_private")
    data = fake_mp4(4000)
    inbox = client.init_inbox(file_source(len(data))).json()["data"]
    put_chunk(inbox["upload_url"], data, 0, len(data))
    failed = uploaded_post(client, data=b"garbage" * 100)
    emulator.advance(1)
    received = {e["event"]: json.loads(e["content"]) for e in events(emulator, receiver, 2)}
    assert received["post.publish.inbox_delivered"] == {
        "publish_id": inbox["publish_id"],
        "publish_type": "INBOX_SHARE",
    }
    assert received["post.publish.failed"] == {
        "publish_id": failed,
        "reason": "file_format_check_failed",
        "publish_type": "DIRECT_PUBLISH",
    }


def test_authorization_removed_on_revoke_and_admin(emulator: EmulatorHandle, receiver: Receiver) -> None:
    emulator.configure(webhook_url=receiver.url)
    tokens = emulator.connect("creator_public")
    requests.post(
        f"{emulator.base_url}/v2/oauth/revoke/",
        data={"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
              "token": tokens["access_token"]},
        timeout=TIMEOUT,
    )  # fmt: skip
    emulator.connect("creator_private")
    response = requests.post(
        f"{emulator.base_url}/_admin/revoke-authorization",
        json={"account": "creator_private", "reason": 4},
        timeout=TIMEOUT,
    )
    assert response.json()["grants_revoked"] == 1
    first, second = events(emulator, receiver, 2)
    assert (first["event"], json.loads(first["content"])) == ("authorization.removed", {"reason": 1})
    assert first["user_openid"] == tokens["open_id"]
    assert (second["event"], json.loads(second["content"])) == ("authorization.removed", {"reason": 4})


def test_failed_deliveries_are_retried_and_bounded(
    emulator: EmulatorHandle, api: Callable[..., Api], receiver: Receiver
) -> None:
    emulator.configure(webhook_url=receiver.url, webhook_retry_delays=[0.01], webhook_max_attempts=3)
    receiver.statuses.extend([500, 503])
    uploaded_post(api("creator_private"))
    emulator.advance(1)
    emulator.wait_for(lambda: emulator.webhooks() and emulator.webhooks()[0]["done"])
    record = emulator.webhooks()[0]
    assert record["delivered"] is True
    assert [a["status"] for a in record["attempts"]] == [500, 503, 200]
    assert len(receiver.received) == 3
    assert len({body for _, body in receiver.received}) == 1  # the same event, re-sent

    receiver.statuses.extend([500, 500, 500, 500])
    emulator.revoke_authorization("creator_private")
    emulator.wait_for(lambda: len(emulator.webhooks()) == 2 and emulator.webhooks()[1]["done"])
    record = emulator.webhooks()[1]
    assert (record["delivered"], len(record["attempts"])) == (False, 3)


def test_unreachable_webhook_url_is_recorded(emulator: EmulatorHandle) -> None:
    emulator.configure(
        webhook_url="http://127.0.0.1:9/hook", webhook_retry_delays=[0.01], webhook_max_attempts=2
    )
    emulator.revoke_authorization("creator_public")
    emulator.wait_for(lambda: emulator.webhooks() and emulator.webhooks()[0]["done"])
    attempts = emulator.webhooks()[0]["attempts"]
    assert len(attempts) == 2
    assert all("error" in a for a in attempts)


def test_events_are_recorded_without_a_webhook_url(emulator: EmulatorHandle) -> None:
    emulator.revoke_authorization("creator_public")
    record = emulator.webhooks()[0]
    assert (record["event"], record["delivered"], record["attempts"]) == ("authorization.removed", False, [])
