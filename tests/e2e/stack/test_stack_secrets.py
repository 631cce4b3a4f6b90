"""Issue 11: a freshly provisioned local stack generates its signing keys as CloudFormation does, so no token
signed with anything public (the old placeholder, a guess) is ever authorized, and a placeholder key put back
into the secret makes the authorizer refuse every token, its own included."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from jwt.warnings import InsecureKeyLengthWarning

from local_stack import LocalStack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("stack"),
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]
_ = InsecureKeyLengthWarning


def _token(key: str) -> str:
    now = int(time.time())
    claims = {"sub": "u", "tenant_id": "t-secrets", "aud": "tiktok-publisher", "iat": now, "exp": now + 600}
    return jwt.encode(claims, key, algorithm="HS256")


def _status(stack: LocalStack, token: str) -> int:
    answer = requests.get(
        f"{stack.gateway_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    return answer.status_code


def test_a_fresh_stack_authorizes_only_tokens_signed_with_its_generated_key(local_stack: LocalStack) -> None:
    sm = local_stack.client("secretsmanager")
    secret_id = local_stack.resources["JwtSecret"]
    generated = sm.get_secret_value(SecretId=secret_id)["SecretString"]
    assert len(generated) >= 32

    for public in ("FILL_AFTER_DEPLOY", "local-dev-jwt-secret-change-me-32b", "secret", ""):
        assert _status(local_stack, _token(public or "x")) == 403, public
    assert _status(local_stack, _token(generated)) == 200

    # When an operator pastes a placeholder into the secret, the authorizer refuses every token, even one
    # signed with that very placeholder (fail closed), until a real key is back.
    try:
        sm.put_secret_value(SecretId=secret_id, SecretString="FILL_AFTER_DEPLOY")
        # Powertools caches the secret for POWERTOOLS_PARAMETERS_MAX_AGE (300 s): a fresh invocation
        # environment reads it at once.
        local_stack.pools[local_stack.function_id("authorizer")].recycle()
        assert _status(local_stack, _token("FILL_AFTER_DEPLOY")) == 403
        assert _status(local_stack, _token(generated)) == 403
    finally:
        sm.put_secret_value(SecretId=secret_id, SecretString=generated)
        local_stack.pools[local_stack.function_id("authorizer")].recycle()
    assert _status(local_stack, _token(generated)) == 200
