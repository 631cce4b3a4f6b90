"""Parsing TikTok's answers: the flat OAuth shape, the v2 envelope, garbage, and exact int64 post ids."""

from __future__ import annotations

import json

import pytest

from tiktok_publisher.adapters.tiktok_client import (
    _parse_content_range,
    parse_oauth_answer,
    parse_v2_answer,
    publish_status_from,
    token_set_from,
)
from tiktok_publisher.domain.tiktok import PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError, TikTokTransportError


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


TOKEN_ANSWER = {
    "access_token": "act.example-access",
    "expires_in": 86400,
    "open_id": "open-1",
    "refresh_expires_in": 31536000,
    "refresh_token": "rft.example-refresh",
    "scope": "user.info.basic,video.publish",
    "token_type": "Bearer",
}


def test_flat_token_answer_becomes_a_token_set() -> None:
    parsed = token_set_from(parse_oauth_answer("token", 200, {}, body(TOKEN_ANSWER)))

    assert parsed.open_id == "open-1"
    assert parsed.scopes == ["user.info.basic", "video.publish"]
    assert parsed.expires_in == 86400
    assert "act.example" not in repr(parsed)


@pytest.mark.parametrize("status", [200, 400, 401])
def test_oauth_error_is_raised_whatever_the_http_status(status: int) -> None:
    answer = {"error": "invalid_grant", "error_description": "Refresh token is invalid", "log_id": "LOG1"}

    with pytest.raises(OAuthError) as caught:
        parse_oauth_answer("token", status, {}, body(answer))

    assert caught.value.code == "invalid_grant"
    assert caught.value.message == "Refresh token is invalid"
    assert caught.value.http_status == status
    assert caught.value.log_id == "LOG1"
    assert caught.value.is_retryable is False


def test_oauth_server_error_is_retryable() -> None:
    with pytest.raises(OAuthError) as caught:
        parse_oauth_answer("token", 500, {}, body({"error": "server_error", "error_description": ""}))

    assert caught.value.is_retryable is True


def test_oauth_log_id_falls_back_to_the_header() -> None:
    with pytest.raises(OAuthError) as caught:
        parse_oauth_answer("token", 400, {"X-Tt-Logid": "HDRLOG"}, body({"error": "invalid_request"}))

    assert caught.value.log_id == "HDRLOG"


def test_token_answer_missing_fields_is_a_bad_response_without_echoing_tokens() -> None:
    partial = {"access_token": "act.leaky", "open_id": "o"}

    with pytest.raises(TikTokTransportError) as caught:
        token_set_from(parse_oauth_answer("token", 200, {}, body(partial)))

    assert caught.value.code == "bad_response"
    assert "act.leaky" not in str(caught.value) + repr(caught.value)


def test_revoke_success_is_an_empty_object() -> None:
    assert parse_oauth_answer("revoke", 200, {}, b"{}") == {}


def test_v2_ok_returns_data() -> None:
    answer = {"data": {"user": {"open_id": "o"}}, "error": {"code": "ok", "message": "", "log_id": "L"}}

    assert parse_v2_answer("user_info", 200, {}, body(answer)) == {"user": {"open_id": "o"}}


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (401, "access_token_invalid", False),
        (400, "scope_permission_missed", False),
        (403, "spam_risk_too_many_posts", False),
        (429, "rate_limit_exceeded", True),
        (500, "internal_error", True),
        (200, "spam_risk_too_many_posts", False),  # creator_info quota errors come as 200
        (200, "internal_error", True),
    ],
)
def test_v2_error_envelope(status: int, code: str, retryable: bool) -> None:
    answer = {"error": {"code": code, "message": "explained", "log_id": "LOG2"}}

    with pytest.raises(TikTokError) as caught:
        parse_v2_answer("creator_info", status, {"x-tt-logid": "HDR"}, body(answer))

    err = caught.value
    assert type(err) is TikTokError
    assert (err.code, err.message, err.http_status, err.log_id) == (code, "explained", status, "LOG2")
    assert err.is_retryable is retryable
    assert str(err) == f"{code}: explained (http {status}, log_id LOG2)"


def test_v2_error_without_log_id_uses_the_header() -> None:
    with pytest.raises(TikTokError) as caught:
        parse_v2_answer(
            "status", 400, {"x-tt-logid": "HDR9"}, body({"error": {"code": "invalid_publish_id"}})
        )

    assert caught.value.log_id == "HDR9"


def test_v2_error_message_is_scrubbed() -> None:
    answer = {"error": {"code": "access_token_invalid", "message": "token act.abcdef123456 is invalid"}}

    with pytest.raises(TikTokError) as caught:
        parse_v2_answer("user_info", 401, {}, body(answer))

    assert "abcdef123456" not in str(caught.value)


@pytest.mark.parametrize("content", [b"<html>502 Bad Gateway</html>", b"", b"\xff\xfe", b"[1,2]", b"null"])
def test_garbage_is_a_transport_error(content: bytes) -> None:
    with pytest.raises(TikTokTransportError) as caught:
        parse_v2_answer("user_info", 200, {"x-tt-logid": "G"}, content)

    assert caught.value.code == "bad_response"
    assert caught.value.is_retryable is True
    assert caught.value.log_id == "G"


def test_json_without_envelope_is_a_bad_response() -> None:
    with pytest.raises(TikTokTransportError):
        parse_v2_answer("user_info", 200, {}, body({"data": {"user": {}}}))


def test_http_error_without_envelope_keeps_the_status() -> None:
    with pytest.raises(TikTokError) as caught:
        parse_v2_answer("user_info", 503, {}, body({"message": "Service Unavailable"}))

    assert caught.value.code == "http_503"
    assert caught.value.is_retryable is True


def test_post_ids_keep_every_int64_digit() -> None:
    raw = (
        b'{"data":{"status":"PUBLISH_COMPLETE","publicaly_available_post_id":[7345678901234567891,'
        b'9223372036854775807],"uploaded_bytes":1000},"error":{"code":"ok","message":"","log_id":"L"}}'
    )

    status = publish_status_from(parse_v2_answer("status", 200, {}, raw, exact_ints=True))

    assert status.post_ids == ["7345678901234567891", "9223372036854775807"]
    assert status.uploaded_bytes == 1000
    # The trap this avoids: float(7345678901234567891) rounds.
    assert str(int(float(7345678901234567891))) != "7345678901234567891"


def test_status_failed_with_reason() -> None:
    data = {"status": "FAILED", "fail_reason": "duration_check_failed", "publicaly_available_post_id": []}

    status = publish_status_from(data)

    assert status.status == "FAILED"
    assert status.fail_reason == "duration_check_failed"
    assert status.post_ids == []


def test_unknown_status_value_is_kept_as_sent() -> None:
    # Issue 12 reverses the old rule ("an unknown status value is a bad_response"): a value TikTok's docs do
    # not list is kept as sent, and the worker treats it as processing.
    status = publish_status_from({"status": "DANCING"})
    assert status.status == "DANCING"
    assert not isinstance(status.status, PublishStatusValue)
    assert isinstance(publish_status_from({"status": "FAILED"}).status, PublishStatusValue)


@pytest.mark.parametrize("data", [{}, {"status": ""}, {"status": 7}, {"status": None}])
def test_a_missing_or_non_text_status_is_still_a_bad_response(data: dict[str, object]) -> None:
    with pytest.raises(TikTokTransportError):
        publish_status_from(data)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 0-9999999/50000123", (9999999, 50000123)),
        ("bytes 0-50000122/50000123", (50000122, 50000123)),
        ("bytes */50000123", (None, 50000123)),
        (None, (None, None)),
        ("items 0-1/2", (None, None)),
        ("bytes x-y/z", (None, None)),
    ],
)
def test_content_range_progress(header: str | None, expected: tuple[int | None, int | None]) -> None:
    assert _parse_content_range(header) == expected
