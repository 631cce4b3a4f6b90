"""The authorizer after issue 11: fail closed on unusable keys (with an alarm line), whole-value claim
patterns, a maximum token lifetime, https-only JWKS outside the local stack."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from tests.fixtures.aws import AwsEnv
from tests.integration.core.test_core_authorizer import call, claims, denied_reasons, hs256
from tiktok_publisher import config, observability

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.logger.registered_formatter)
    observability.logger._logger.addHandler(handler)
    yield stream
    observability.logger._logger.removeHandler(handler)


def alarms(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"alarm"' in line]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("FILL_AFTER_DEPLOY", "placeholder"),
        ("local-dev-jwt-secret-change-me-32b", "placeholder"),
        ("short-key-of-31-bytes-xxxxxxxxx", "shorter than 32 bytes"),
        ("   ", "empty"),
    ],
)
def test_an_unusable_key_refuses_every_token_even_one_signed_with_it(
    aws: AwsEnv, logs: io.StringIO, key: str, why: str
) -> None:
    # Given the JWT secret holds a placeholder, a short or an empty key
    aws.put_secret(jwt_secret=key)

    # When a token signed with exactly that key arrives
    answer = call(hs256(key))

    # Then it is refused, and an error line carries the alarm code the template's metric filter counts
    assert answer == {"isAuthorized": False}
    (line,) = alarms(logs.getvalue())
    assert line["level"] == "ERROR"
    assert line["alarm"] == "unusable_secret"
    assert why in line["error"]
    assert key.strip() == "" or key not in logs.getvalue()


def test_a_missing_jwt_secret_refuses_every_token_with_an_alarm(
    aws: AwsEnv, logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.secretsmanager.delete_secret(SecretId=aws.secret_ids["jwt_secret"], ForceDeleteWithoutRecovery=True)
    config.reset_caches()

    assert call(hs256(aws.secrets["jwt_secret"])) == {"isAuthorized": False}
    assert alarms(logs.getvalue())[0]["alarm"] == "unusable_secret"

    monkeypatch.delenv("JWT_SECRET_ID")
    config.reset_caches()
    assert call(hs256(aws.secrets["jwt_secret"])) == {"isAuthorized": False}


def test_tenant_and_subject_must_match_whole(aws: AwsEnv, logs: io.StringIO) -> None:
    secret = aws.secrets["jwt_secret"]
    # "acme\n" passed `re.match(...$)` and became a tenant of its own.
    for bad, reason in (
        ({"tenant_id": "acme\n"}, "bad_tenant"),
        ({"tenant_id": "a" * 129}, "bad_tenant"),
        ({"tenant_id": "acme/evil"}, "bad_tenant"),
        ({"sub": "user\n"}, "bad_sub"),
        ({"sub": "u" * 257}, "bad_sub"),
        ({"sub": "user 1"}, "bad_sub"),
    ):
        assert call(hs256(secret, **bad)) == {"isAuthorized": False}, bad
        assert denied_reasons(logs.getvalue())[-1] == reason
    ok = call(hs256(secret, sub="google-oauth2|1234", tenant_id="a" * 128))
    assert ok["context"] == {"tenant_id": "a" * 128, "user_id": "google-oauth2|1234"}


def test_tokens_living_longer_than_the_maximum_are_refused(
    aws: AwsEnv, logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = aws.secrets["jwt_secret"]
    now = int(time.time())
    # Default 24 h: a day is fine, a year is not, with or without iat.
    assert call(hs256(secret, iat=now, exp=now + 24 * 3600))["isAuthorized"] is True
    assert call(hs256(secret, iat=now, exp=now + 365 * 86400)) == {"isAuthorized": False}
    assert call(hs256(secret, iat=None, exp=now + 2 * 86400)) == {"isAuthorized": False}
    # An old iat does not buy a long exp either.
    assert call(hs256(secret, iat=now - 3600, exp=now + 24 * 3600)) == {"isAuthorized": False}
    assert denied_reasons(logs.getvalue()) == ["lifetime_too_long"] * 3

    monkeypatch.setenv("JWT_MAX_LIFETIME_SECONDS", "900")
    config.reset_caches()
    assert call(hs256(secret, iat=now, exp=now + 3600)) == {"isAuthorized": False}
    assert call(hs256(secret, iat=now, exp=now + 600))["isAuthorized"] is True


def test_iss_is_required_when_configured(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ISSUER", "https://auth.example.com/")
    config.reset_caches()
    token = jwt.encode(claims(), aws.secrets["jwt_secret"], algorithm="HS256")

    assert call(token) == {"isAuthorized": False}


@pytest.mark.parametrize(("stage", "allowed"), [("dev", False), ("prod", False), ("local", True)])
def test_plain_http_jwks_is_refused_outside_the_local_stack(
    aws: AwsEnv, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO, stage: str, allowed: bool
) -> None:
    from tiktok_publisher.config import ConfigError, get_settings
    from tiktok_publisher.entrypoints.authorizer import check_jwks_url

    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("JWKS_URL", "http://idp.example.com/.well-known/jwks.json")
    config.reset_caches()

    if allowed:
        check_jwks_url(get_settings())
    else:
        with pytest.raises(ConfigError, match="https"):
            check_jwks_url(get_settings())
        assert call(hs256(aws.secrets["jwt_secret"])) == {"isAuthorized": False}
        assert "JWKS_URL must be an https" in logs.getvalue()
