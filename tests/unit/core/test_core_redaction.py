"""The logger never writes tokens, secrets, codes, verifiers, JWTs or signed URL queries."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_publisher import observability
from tiktok_publisher.domain.redaction import is_sensitive_key, redact, redact_text
from tiktok_publisher.observability import RedactingFormatter

ACCESS = "act.1a2b3c4d5e6f7g8h9i0jKLMNOPqrstuv!4321.va"
REFRESH = "rft.zyx987wvu654tsr321QPONMLKJ!1234.va"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJ0ZW5hbnRfaWQiOiJ0MSJ9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.fixture
def capture() -> tuple[Logger, io.StringIO]:
    stream = io.StringIO()
    test_logger = Logger(
        service=f"redaction-{uuid.uuid4().hex}",
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    return test_logger, stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_the_package_logger_uses_the_redacting_formatter() -> None:
    assert isinstance(observability.logger.registered_formatter, RedactingFormatter)


def test_tokens_in_the_message_are_masked(capture: tuple[Logger, io.StringIO]) -> None:
    log, stream = capture

    log.info(f"refreshed {ACCESS} with {REFRESH}")

    text = stream.getvalue()
    assert ACCESS not in text
    assert "1a2b3c4d" not in text
    assert REFRESH not in text
    assert "zyx987" not in text
    assert "act.***" in text
    assert "rft.***" in text


def test_sensitive_extra_keys_are_masked_and_diagnostics_kept(capture: tuple[Logger, io.StringIO]) -> None:
    log, stream = capture

    log.info(
        "token exchange",
        extra={
            "access_token": "plain-access-value",
            "refresh_token_enc": "blob-value",
            "client_secret": "cs-value",
            "code": "auth-code-value",
            "code_verifier": "verifier-value",
            "authorization": "whatever-value",
            "state_signing_key": "ssk-value",
            "status_code": 400,
            "tiktok_code": "invalid_grant",
            "client_key": "sbawlocaldevkey",
            "open_id": "open-123",
        },
    )

    record = lines(stream)[0]
    text = stream.getvalue()
    for secret in (
        "plain-access-value",
        "blob-value",
        "cs-value",
        "auth-code-value",
        "verifier-value",
        "whatever-value",
        "ssk-value",
    ):
        assert secret not in text
    assert record["access_token"] == "***"
    assert record["status_code"] == 400
    assert record["tiktok_code"] == "invalid_grant"
    assert record["client_key"] == "sbawlocaldevkey"
    assert record["open_id"] == "open-123"


def test_nested_structures_are_redacted(capture: tuple[Logger, io.StringIO]) -> None:
    log, stream = capture

    log.info("answer", extra={"body": {"data": {"tokens": [ACCESS]}, "list": [{"refresh_token": "x-value"}]}})

    text = stream.getvalue()
    assert ACCESS not in text
    assert "x-value" not in text


def test_appended_keys_are_redacted(capture: tuple[Logger, io.StringIO]) -> None:
    log, stream = capture
    log.append_keys(upstream_auth=f"Bearer {ACCESS}")

    log.info("calling")

    assert ACCESS not in stream.getvalue()


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT.split(".")[1]),
        ("Authorization: Bearer opaque-token-value", "opaque-token-value"),
        (f"caller sent {JWT}", JWT.split(".")[2]),
        ("callback /v1/oauth/tiktok/callback?code=CODE123abc&state=xyz", "CODE123abc"),
        ("form grant_type=authorization_code&code_verifier=VERIFIERabc123&x=1", "VERIFIERabc123"),
        ("client_secret=local-dev-client-secret&client_key=k", "local-dev-client-secret"),
        (
            "pull from https://bucket.s3.us-east-1.amazonaws.com/u/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=deadbeefcafe0123",
            "deadbeefcafe0123",
        ),
        (
            "pull from https://bucket.s3.us-east-1.amazonaws.com/u/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAEXAMPLE%2F20250101&X-Amz-Signature=deadbeef",
            "AKIAEXAMPLE",
        ),
        (
            "https://media.example.com/v.mp4?Expires=1700000000&Signature=AbCdEf~123-&Key-Pair-Id=K2ABC",
            "AbCdEf~123-",
        ),
        ('upstream said {"access_token": "opaque-in-json", "open_id": "o"}', "opaque-in-json"),
    ],
)
def test_secret_substrings_are_masked(capture: tuple[Logger, io.StringIO], message: str, secret: str) -> None:
    log, stream = capture

    log.warning(message)

    assert secret not in stream.getvalue()


def test_signed_url_keeps_host_and_path_for_debugging() -> None:
    url = "https://bucket.s3.amazonaws.com/uploads/a.mp4?X-Amz-Signature=abc123&X-Amz-Expires=900"

    assert (
        redact_text(f"fetching {url} now") == "fetching https://bucket.s3.amazonaws.com/uploads/a.mp4?*** now"
    )


def test_exception_text_and_traceback_are_redacted(capture: tuple[Logger, io.StringIO]) -> None:
    log, stream = capture

    try:
        raise RuntimeError(f"upstream rejected {REFRESH} and code=SECRETCODE42")
    except RuntimeError:
        log.exception("refresh failed")

    record = lines(stream)[0]
    assert record["exception_name"] == "RuntimeError"
    assert REFRESH not in stream.getvalue()
    assert "SECRETCODE42" not in stream.getvalue()


def test_plain_text_is_left_alone() -> None:
    text = "post 01J0ABC published to open_id d2ec6003 (status_code=200, tiktok_code=ok, contact.me)"

    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("access_token", True),
        ("refresh_token_enc", True),
        ("client_secret", True),
        ("code", True),
        ("code_verifier", True),
        ("Authorization", True),
        ("password", True),
        ("private_key", True),
        ("signature", True),
        ("upload_url", True),
        ("status_code", False),
        ("tiktok_code", False),
        ("error_code", False),
        ("client_key", False),
        ("token_key_id", False),
        ("idempotency_key", False),
        ("open_id", False),
        ("log_id", False),
    ],
)
def test_sensitive_key_classification(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_redact_handles_bytes_and_objects() -> None:
    class Holder:
        def __str__(self) -> str:
            return f"holder({ACCESS})"

    out = redact({"blob": b"\x00\x01secret", "obj": Holder(), "n": 3, "none": None})

    assert out == {"blob": "<8 bytes>", "obj": "holder(act.***)", "n": 3, "none": None}


TOKEN_CHARS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*._-~", min_size=8, max_size=80
)


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["act.", "rft."]),
    body=TOKEN_CHARS,
    before=st.text(max_size=20),
    after=st.sampled_from(["", " ", "&x=1", '"', ",", ")", "\n"]),
)
def test_any_tiktok_token_is_masked_wherever_it_appears(
    prefix: str, body: str, before: str, after: str
) -> None:
    token = prefix + body
    masked = redact_text(f"{before} {token}{after}")

    assert token not in masked
