"""Webhook authenticity and parsing (pure): signature, tolerance window, raw body, content parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tiktok_emulator.webhooks import signature_header
from tiktok_publisher.webhooks.envelope import (
    REMOVAL_REASONS,
    WebhookRejected,
    parse_event,
    raw_body,
    removal_reason,
)
from tiktok_publisher.webhooks.signature import parse_signature, verify_signature

SECRET = "local-dev-client-secret"
NOW = 1_800_000_000


def body_of(event: str = "post.publish.complete", content: object = None) -> bytes:
    text = json.dumps(
        content if content is not None else {"publish_id": "v_pub_1", "publish_type": "DIRECT_PUBLISH"}
    )
    return json.dumps(
        {
            "client_key": "sbawlocaldevkey",
            "event": event,
            "create_time": NOW,
            "user_openid": "u1",
            "content": text,
        }
    ).encode()


def test_signature_made_by_the_emulator_verifies() -> None:
    body = body_of()
    header = signature_header(SECRET, NOW, body.decode())
    assert verify_signature(body, header, SECRET, now=NOW) == NOW


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamps_inside_the_300_second_window_pass(skew: int) -> None:
    body = body_of()
    header = signature_header(SECRET, NOW + skew, body.decode())
    assert verify_signature(body, header, SECRET, now=NOW) == NOW + skew


@pytest.mark.parametrize("skew", [-301, 301, -86_400])
def test_timestamps_outside_the_window_are_stale(skew: int) -> None:
    body = body_of()
    header = signature_header(SECRET, NOW + skew, body.decode())
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(body, header, SECRET, now=NOW)
    assert (caught.value.status, caught.value.code) == (401, "stale")


def test_another_secret_is_rejected() -> None:
    body = body_of()
    header = signature_header("someone-elses-secret", NOW, body.decode())
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(body, header, SECRET, now=NOW)
    assert (caught.value.status, caught.value.code) == (401, "bad_signature")


def test_a_changed_byte_in_the_body_is_rejected() -> None:
    body = body_of()
    header = signature_header(SECRET, NOW, body.decode())
    tampered = body.replace(b"v_pub_1", b"v_pub_2")
    with pytest.raises(WebhookRejected):
        verify_signature(tampered, header, SECRET, now=NOW)


def test_reserialized_json_is_not_the_signed_body() -> None:
    # Why the raw bytes matter: the same JSON with other whitespace has another signature.
    body = body_of()
    header = signature_header(SECRET, NOW, body.decode())
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(WebhookRejected):
        verify_signature(reserialized, header, SECRET, now=NOW)


def test_the_timestamp_is_part_of_the_signature() -> None:
    body = body_of()
    good = signature_header(SECRET, NOW, body.decode())
    moved = good.replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(WebhookRejected):
        verify_signature(body, moved, SECRET, now=NOW)


@pytest.mark.parametrize(
    "header", [None, "", "s=abc", f"t={NOW}", "t=abc,s=00", "garbage", f"t={NOW},s=", "t=1e9,s=ab"]
)
def test_missing_or_malformed_headers_are_401(header: str | None) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(body_of(), header, SECRET, now=NOW)
    assert caught.value.status == 401


def test_uppercase_hex_and_extra_spaces_and_several_signatures_are_accepted() -> None:
    body = body_of()
    mac = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    header = f"t={NOW}, s={'0' * 64}, s={mac.upper()}"
    assert parse_signature(header) == (NOW, ["0" * 64, mac])
    assert verify_signature(body, header, SECRET, now=NOW) == NOW


def test_raw_body_decodes_base64_exactly() -> None:
    body = "é ünïcode \u2028 body".encode()
    event = {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    assert raw_body(event) == body
    assert raw_body({"body": body.decode(), "isBase64Encoded": False}) == body
    assert raw_body({}) == b""


def test_raw_body_with_broken_base64_is_400() -> None:
    with pytest.raises(WebhookRejected) as caught:
        raw_body({"body": "***not base64***", "isBase64Encoded": True})
    assert caught.value.status == 400


def test_content_string_is_parsed_again_with_exact_integers() -> None:
    event = parse_event(
        body_of("post.publish.publicly_available", {"publish_id": "p", "post_id": 7390123456789012345})
    )
    assert event.event == "post.publish.publicly_available"
    assert event.create_time == NOW
    assert event.content["post_id"] == "7390123456789012345"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": "post.publish.complete"}',
        b'{"event": "x", "user_openid": "u", "create_time": "soon", "content": "{}"}',
        b'{"event": "x", "user_openid": "u", "create_time": 1, "content": "{not json"}',
        b'{"event": "x", "user_openid": "u", "create_time": 1, "content": "[1]"}',
        b'{"event": "x", "user_openid": "u", "create_time": 1, "content": 5}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_event(body)
    assert caught.value.status == 400


def test_removal_reasons_map_0_to_5_and_anything_else_is_unknown() -> None:
    assert [removal_reason(code)[0] for code in range(6)] == [0, 1, 2, 3, 4, 5]
    assert removal_reason("4") == (4, REMOVAL_REASONS[4])
    assert removal_reason(9) == (0, "unknown")
    assert removal_reason(None) == (0, "unknown")
