"""The Lambda authorizer end to end (handler -> auth -> Secrets Manager or JWKS): every way a token fails."""

from __future__ import annotations

import http.server
import importlib.util
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fixtures.aws import AwsEnv
from tiktok_publisher import config, observability
from tiktok_publisher.config import get_settings
from tiktok_publisher.domain.errors import Unauthorized
from tiktok_publisher.entrypoints.authorizer import Principal, verify_jwt

ROOT = Path(__file__).resolve().parents[3]
AUD = "tiktok-publisher"
# The contract's local JWT secret is 30 bytes; PyJWT warns below 32. Production secrets are longer.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "authorizer_app_core_tests", ROOT / "functions/authorizer/app.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HANDLER = load_handler()


def context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="authorizer",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:authorizer",
        aws_request_id=str(uuid.uuid4()),
    )


def event(authorization: str | None) -> dict[str, Any]:
    headers = {"host": "api.example.com"}
    if authorization is not None:
        headers["authorization"] = authorization
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/v1/accounts",
        "identitySource": [authorization] if authorization else [],
        "routeKey": "GET /v1/accounts",
        "rawPath": "/v1/accounts",
        "headers": headers,
        "requestContext": {"requestId": "req-1", "http": {"method": "GET", "path": "/v1/accounts"}},
    }


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "user-1", "tenant_id": "tenant-1", "aud": AUD, "iat": now, "exp": now + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hs256(secret: str, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


def call(token: str | None, *, scheme: str = "Bearer") -> dict[str, Any]:
    return HANDLER.lambda_handler(event(f"{scheme} {token}" if token is not None else None), context())


def denied_reasons(text: str) -> list[str]:
    return [json.loads(line).get("reason") for line in text.splitlines() if '"caller denied"' in line]


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the package logger writes during the test (formatted and redacted as in Lambda)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.logger.registered_formatter)
    std_logger = observability.logger._logger
    std_logger.addHandler(handler)
    yield stream
    std_logger.removeHandler(handler)


@pytest.fixture
def secret(aws: AwsEnv) -> str:
    return aws.secrets["jwt_secret"]


# ------------------------------------------------------------------ HS256 (default)


def test_valid_hs256_token_is_authorized_with_context(secret: str) -> None:
    answer = call(hs256(secret))

    assert answer == {"isAuthorized": True, "context": {"tenant_id": "tenant-1", "user_id": "user-1"}}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s: hs256(s, exp=int(time.time()) - 3600), "expired"),
        (lambda s: hs256(s, nbf=int(time.time()) + 3600), "not_yet_valid"),
        (lambda s: hs256(s, aud="someone-else"), "wrong_audience"),
        (lambda s: hs256(s, aud=None), "missing_aud"),
        (lambda s: hs256(s, exp=None), "missing_exp"),
        (lambda s: hs256(s, sub=None), "missing_sub"),
        (lambda s: hs256(s, sub=""), "missing_sub"),
        (lambda s: hs256(s, tenant_id=None), "missing_tenant"),
        (lambda s: hs256(s, tenant_id=42), "missing_tenant"),
        (lambda s: hs256(s, tenant_id="t#1"), "bad_tenant"),
        (lambda s: hs256("a-different-secret-of-decent-length"), "bad_signature"),
        (lambda s: jwt.encode(claims(), None, algorithm="none"), "alg_not_allowed"),
        (lambda s: jwt.encode(claims(), s, algorithm="HS512"), "alg_not_allowed"),
        (lambda s: hs256(s)[:-4] + "AAAA", "bad_signature"),
        (lambda s: "not.a.jwt", "malformed_token"),
    ],
)
def test_bad_tokens_are_denied_without_detail(secret: str, make: Any, reason: str, logs: io.StringIO) -> None:
    token = make(secret)

    answer = call(token)

    assert answer == {"isAuthorized": False}
    out = logs.getvalue()
    assert denied_reasons(out) == [reason]
    assert token not in out


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc.def.ghi",
        "Bearer a.b.c extra",
        "Bearer x" * 3000,
    ],
)
def test_malformed_headers_are_denied(aws: AwsEnv, header: str | None) -> None:
    answer = HANDLER.lambda_handler(event(header), context())

    assert answer == {"isAuthorized": False}


def test_scheme_is_case_insensitive(secret: str) -> None:
    assert call(hs256(secret), scheme="bearer")["isAuthorized"] is True


def test_issuer_is_checked_when_configured(secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ISSUER", "https://auth.example.com/")
    config.reset_caches()

    assert call(hs256(secret, iss="https://auth.example.com/"))["isAuthorized"] is True
    assert call(hs256(secret, iss="https://evil.example.com/")) == {"isAuthorized": False}
    assert call(hs256(secret)) == {"isAuthorized": False}


def test_custom_tenant_claim(secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_TENANT_CLAIM", "org")
    config.reset_caches()

    answer = call(hs256(secret, org="org-9"))

    assert answer["context"] == {"tenant_id": "org-9", "user_id": "user-1"}
    assert call(hs256(secret)) == {"isAuthorized": False}


def test_small_clock_skew_is_tolerated(secret: str) -> None:
    assert call(hs256(secret, exp=int(time.time()) - 5))["isAuthorized"] is True


def test_secret_rotation_is_picked_up_after_cache_reset(aws: AwsEnv) -> None:
    aws.put_secret(jwt_secret="rotated-secret-value-0123456789abcdef")

    assert call(hs256("rotated-secret-value-0123456789abcdef"))["isAuthorized"] is True
    assert call(hs256("local-dev-jwt-secret-change-me-32b")) == {"isAuthorized": False}


def test_missing_secret_fails_closed(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SECRET_ID", "does/not/exist")
    config.reset_caches()

    assert call(hs256(aws.secrets["jwt_secret"])) == {"isAuthorized": False}


# ------------------------------------------------------------------ RS256 via JWKS


class Jwks:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "kid-1"
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        self.document = json.dumps({"keys": [public]}).encode()
        self.hits = 0
        self.public_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, kid: str | None = None, key: Any = None, **overrides: Any) -> str:
        return jwt.encode(
            claims(**overrides), key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@pytest.fixture
def jwks(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Jwks]:
    keys = Jwks()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.hits += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(keys.document)))
            self.end_headers()
            self.wfile.write(keys.document)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("JWKS_URL", f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json")
    config.reset_caches()
    yield keys
    server.shutdown()
    server.server_close()


def test_valid_rs256_token_is_authorized(jwks: Jwks) -> None:
    assert call(jwks.sign())["context"] == {"tenant_id": "tenant-1", "user_id": "user-1"}


def test_jwks_is_cached_across_calls(jwks: Jwks) -> None:
    for _ in range(3):
        assert call(jwks.sign())["isAuthorized"] is True

    assert jwks.hits == 1


def test_rs256_signed_by_another_key_is_denied(jwks: Jwks) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert call(jwks.sign(key=other)) == {"isAuthorized": False}


def test_unknown_kid_is_denied(jwks: Jwks) -> None:
    assert call(jwks.sign(kid="kid-unknown")) == {"isAuthorized": False}


def test_expired_rs256_is_denied(jwks: Jwks) -> None:
    assert call(jwks.sign(exp=int(time.time()) - 3600)) == {"isAuthorized": False}


def test_hs256_token_is_refused_when_rs256_is_configured(jwks: Jwks, secret: str, logs: io.StringIO) -> None:
    # The classic confusion: HMAC "signed" with the public key (or with our HS secret).
    token = _hmac_token(jwks.public_pem, kid=jwks.kid)

    assert call(token) == {"isAuthorized": False}
    assert call(hs256(secret)) == {"isAuthorized": False}
    assert denied_reasons(logs.getvalue()) == ["alg_not_allowed", "alg_not_allowed"]
    assert jwks.hits == 0  # refused before any key lookup


def test_rs256_token_is_refused_when_hs256_is_configured(secret: str) -> None:
    rs = Jwks()

    assert call(rs.sign()) == {"isAuthorized": False}


def _hmac_token(key: bytes, *, kid: str) -> str:
    """An HS256 JWT keyed with arbitrary bytes (PyJWT refuses PEM keys as HMAC secrets, so sign by hand)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


# ------------------------------------------------------------------ verify_jwt directly


def test_verify_jwt_returns_the_principal(aws: AwsEnv) -> None:
    settings = get_settings()
    from tiktok_publisher.config import get_secrets

    principal = verify_jwt(hs256(aws.secrets["jwt_secret"]), settings=settings, secrets=get_secrets())

    assert principal == Principal(tenant_id="tenant-1", user_id="user-1")


def test_verify_jwt_unauthorized_carries_a_reason_and_no_token(aws: AwsEnv) -> None:
    from tiktok_publisher.config import get_secrets

    token = hs256(aws.secrets["jwt_secret"], aud="x")

    with pytest.raises(Unauthorized) as caught:
        verify_jwt(token, settings=get_settings(), secrets=get_secrets())

    assert caught.value.details == {"reason": "wrong_audience"}
    assert token not in str(caught.value)
