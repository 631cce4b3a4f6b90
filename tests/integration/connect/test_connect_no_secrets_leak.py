"""Run every connect path, then scan every log line, response body and redirect URL for secrets."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.integration.connect.harness import Harness, consent
from tiktok_publisher.adapters.dynamodb import AccountModel, OAuthSessionModel


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The package logger's formatted JSON lines (what CloudWatch would get), in a buffer."""
    from tiktok_publisher.observability import logger

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield buffer
    logger.removeHandler(handler)


def _verifiers() -> set[str]:
    return {s.code_verifier for s in OAuthSessionModel.scan() if s.code_verifier}


def _all_secrets(connect_env: Any, verifiers: set[str]) -> dict[str, str]:
    state = connect_env.emulator.state()
    secrets: dict[str, str] = {}
    for code in state["codes"]:
        secrets[f"code {code['code'][:6]}"] = code["code"]
    for token in state["access_tokens"]:
        secrets[f"access token {token['token'][:8]}"] = token["token"]
    for token in state["refresh_tokens"]:
        secrets[f"refresh token {token['token'][:8]}"] = token["token"]
    for verifier in verifiers:
        secrets[f"verifier {verifier[:4]}"] = verifier
    secrets["client secret"] = connect_env.aws.secrets["client_secret"]
    secrets["state signing key"] = connect_env.aws.secrets["state_signing_key"]
    return secrets


def test_no_token_code_secret_or_verifier_in_any_log_body_or_redirect(
    harness: Harness,
    connect_env: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    json_logs: io.StringIO,
):
    from tiktok_publisher.observability import logger

    caplog.set_level(logging.INFO)
    logger.setLevel("DEBUG")  # our own debug lines too
    verifiers: set[str] = set()

    def start() -> str:
        url = harness.start().json["authorize_url"]
        verifiers.update(_verifiers())
        return url

    try:
        # success, reconnect
        for _ in range(2):
            redirect = consent(start())
            harness.callback(redirect)
            harness.callback(redirect)  # replay
        open_id = next(iter(AccountModel.query("tenant-a"))).open_id
        # cancel, partial scopes, OAuth errors at exchange, TikTok down, garbage-free timeouts
        harness.callback(consent(start(), decision="cancel"))
        harness.callback(consent(start(), untick=("video.publish",)))
        for fault in (
            {"mode": "error200", "code": "invalid_grant"},
            {"mode": "5xx", "status": 500},
            {"mode": "reset"},
        ):
            redirect = consent(start())
            connect_env.emulator.fault("token", **fault)
            harness.callback(redirect)
        # tampered state with a real code
        redirect = consent(start())
        query = parse_qs(urlsplit(redirect).query)
        harness.callback(urlencode({"state": query["state"][0] + "x", "code": query["code"][0]}))
        # accounts: detail, creator-info with a refresh, disconnect
        harness.accounts("GET")
        harness.accounts("GET", f"/{open_id}")
        AccountModel(tenant_id="tenant-a", open_id=open_id).update(
            actions=[AccountModel.access_expires_at.set(1)]
        )
        harness.accounts("GET", f"/{open_id}/creator-info")
        harness.accounts("DELETE", f"/{open_id}")
        harness.accounts("DELETE", f"/{open_id}")
    finally:
        logger.setLevel("INFO")

    captured = capfd.readouterr()
    logs = (
        json_logs.getvalue()
        + captured.out
        + captured.err
        + "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    )
    answers = "\n".join(f"{a.status} {a.headers} {a.text}" for a in harness.answers)
    secrets = _all_secrets(connect_env, verifiers)

    # The scan is only meaningful if there was something to scan and something to find.
    assert '"message":"tiktok account connected"' in json_logs.getvalue()
    assert "tiktok account connected" in logs
    assert "oauth connect failed" in logs
    assert "oauth callback with invalid state" in logs
    assert "tiktok account disconnected" in logs
    assert len(verifiers) >= 8
    assert sum(k.startswith("code ") for k in secrets) >= 7  # every start but the cancelled one
    assert sum(k.startswith("access token") for k in secrets) >= 3
    assert any("tiktok=connected" in a.headers.get("location", "") for a in harness.answers)

    leaks = [
        f"{name} in {where}"
        for name, value in secrets.items()
        for where, text in (("logs", logs), ("responses", answers))
        if value and value in text
    ]
    assert leaks == []
