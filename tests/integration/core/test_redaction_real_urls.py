"""Issue 11: redaction of every TikTok and AWS credential shape, checked on real values: URLs the TikTok
client gets from the emulator, URLs and headers botocore's signers make, free text naming credentials."""

from __future__ import annotations

import io
import json
import logging
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.media import make_mp4
from tiktok_publisher.domain.redaction import redact, redact_text
from tiktok_publisher.observability import RedactingFormatter

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD0examplesessiontoken"


def _logged(**extra: object) -> str:
    stream = io.StringIO()
    log = Logger(
        service=f"redaction-{uuid.uuid4().hex}",
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    log.info("diagnostic", extra=extra)
    return stream.getvalue()


def _s3() -> object:
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, aws_session_token=SESSION_TOKEN
    )
    return session.client(
        "s3",
        region_name="eu-west-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


def test_presigned_put_get_and_post_lose_every_credential() -> None:
    s3 = _s3()
    put = s3.generate_presigned_url(  # type: ignore[attr-defined]
        "put_object",
        Params={"Bucket": "media-bucket", "Key": "uploads/t/o/u/clip.mp4", "ContentLength": 10},
        ExpiresIn=3600,
    )
    get = s3.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "media-bucket", "Key": "k", "VersionId": "v1"}, ExpiresIn=60
    )
    post = s3.generate_presigned_post("media-bucket", "uploads/x", ExpiresIn=60)  # type: ignore[attr-defined]
    secrets = [
        *(parse_qs(urlsplit(put).query)[k][0] for k in ("X-Amz-Signature", "X-Amz-Credential")),
        parse_qs(urlsplit(put).query)["X-Amz-Security-Token"][0],
        parse_qs(urlsplit(get).query)["X-Amz-Signature"][0],
        post["fields"]["x-amz-signature"],
        post["fields"]["policy"],
        post["fields"]["x-amz-credential"],
        ACCESS_KEY,
    ]

    text = _logged(url=put, note=f"PUT {put} failed; GET {get}", upload=post) + redact_text(f"refused: {put}")

    for secret in secrets:
        assert secret not in text, secret
    assert "https://media-bucket.s3.eu-west-1.amazonaws.com/uploads/t/o/u/clip.mp4?***" in text


def test_sigv4_authorization_header_and_access_key_ids_are_masked() -> None:
    request = AWSRequest(method="GET", url="https://s3.eu-west-1.amazonaws.com/media-bucket/k")
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), "s3", "eu-west-1").add_auth(request)
    authorization = request.headers["Authorization"]
    signature = authorization.rsplit("Signature=", 1)[1]

    text = _logged(headers=dict(request.headers.items())) + redact_text(
        f"sent Authorization: {authorization} with key {ACCESS_KEY}; X-Amz-Security-Token={SESSION_TOKEN}"
    )

    assert signature not in text
    assert ACCESS_KEY not in text
    assert SESSION_TOKEN not in text
    assert "AWS4-HMAC-SHA256 ***" in text


def test_tiktok_upload_url_from_the_client_loses_its_upload_token(emulator: object) -> None:
    from tests.integration.core.test_core_tiktok_client import make_client, upload_source

    emulator.configure(processing_delay=0)  # type: ignore[attr-defined]
    tokens = emulator.connect("creator_private")  # type: ignore[attr-defined]
    client = make_client(emulator)  # type: ignore[arg-type]
    size = len(make_mp4(duration_s=1.0))
    init = client.init_video(
        tokens["access_token"],
        inbox=False,
        post_info={"privacy_level": "SELF_ONLY", "title": "t"},
        source_info=upload_source(size),
    )
    upload_token = parse_qs(urlsplit(init.upload_url).query)["upload_token"][0]
    assert upload_token

    text = (
        _logged(upload_url=init.upload_url, note=f"PUT {init.upload_url} answered 500")
        + redact_text(f"chunk to {init.upload_url} failed; upload_token={upload_token}")
        + json.dumps(redact({"url": init.upload_url, "access": tokens["access_token"]}))
    )

    assert upload_token not in text
    assert tokens["access_token"] not in text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("exchanging code abc123 for tokens", "abc123"),
        ("the OAuth state: Xk2Fj9aLq0.1800000000.c2lnbmF0dXJl failed", "Xk2Fj9aLq0"),
        ("callback ?state=Xk2Fj9aLq0.1800000000.mac&code=c0de99", "c0de99"),
        ('TikTok said {"code": "c0de99", "state": "s7"}', "c0de99"),
        ("nonce 4f2a9c1b0e was not presented", "4f2a9c1b0e"),
        ("Set-Cookie: __Host-tiktok-connect=Zm9vYmFyMTIz; Path=/", "Zm9vYmFyMTIz"),
    ],
)
def test_codes_states_and_nonces_in_free_text(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_diagnostic_words_stay_readable() -> None:
    text = "status code 500; error code invalid_grant; state machine moved; token_type Bearer-less"
    assert (
        redact_text("status code 500; error code invalid_grant")
        == "status code 500; error code invalid_grant"
    )
    assert "invalid_grant" in redact_text(text)
    assert (
        redact({"state_code": "x", "tiktok_code": "spam_risk", "status": "failed"})["tiktok_code"]
        == "spam_risk"
    )


def test_state_and_cookie_keys_are_masked() -> None:
    record = redact({"state": "Xk2.1.mac", "browser_nonce": "n0nce1", "cookies": ["a=b"], "policy": "eyJ"})
    assert record == {"state": "***", "browser_nonce": "***", "cookies": "***", "policy": "***"}
