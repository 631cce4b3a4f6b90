"""The connect flow in-process: oauth_start and oauth_callback against moto and the emulator over HTTP."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.connect.harness import RETURN_TO, Answer, Harness, consent
from tiktok_publisher.adapters.dynamodb import AccountModel, OAuthSessionModel
from tiktok_publisher.connect.state import new_state_id, sign_state

DEFAULT_SCOPES = "user.info.basic,user.info.profile,video.publish,video.upload"


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _accounts(tenant_id: str = "tenant-a") -> list[AccountModel]:
    return list(AccountModel.query(tenant_id))


def _sessions() -> list[OAuthSessionModel]:
    return list(OAuthSessionModel.scan())


def _assert_dead_end_page(answer: Answer) -> None:
    """400 HTML that sends the browser nowhere: no Location, no meta refresh, no script."""
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "location" not in answer.headers
    lowered = answer.text.lower()
    assert "<script" not in lowered
    assert "http-equiv" not in lowered
    assert "refresh" not in lowered
    assert "href=" not in lowered
    assert "cannot be used" in answer.text


# ------------------------------------------------------------------ start


def test_start_answers_an_authorize_url_and_stores_a_pending_session(harness: Harness, connect_env: Any):
    # When
    answer = harness.start()
    # Then
    assert answer.status == 200
    url = answer.json["authorize_url"]
    assert url.startswith(connect_env.auth_base + "/v2/auth/authorize/?")
    query = _query(url)
    assert query["client_key"] == ["sbawlocaldevkey"]
    assert query["scope"] == [DEFAULT_SCOPES]
    assert query["redirect_uri"] == ["http://127.0.0.1:3000/v1/oauth/tiktok/callback"]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert 0 < answer.json["expires_in"] <= 600
    [session] = _sessions()
    assert session.tenant_id == "tenant-a"
    assert session.user_id == "user-a"
    assert session.return_to == RETURN_TO
    assert session.scopes == DEFAULT_SCOPES.split(",")
    assert 590 <= session.expires_at - time.time() <= 600
    # hex S256 of the stored verifier, TikTok's desktop form
    assert query["code_challenge"] == [hashlib.sha256(session.code_verifier.encode()).hexdigest()]
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", session.code_verifier)
    assert query["state"][0].startswith(session.state_id + ".")


def test_start_with_redirect_answers_302_to_tiktok(harness: Harness, connect_env: Any):
    answer = harness.start(redirect=True)
    assert answer.status == 302
    assert answer.location.startswith(connect_env.auth_base + "/v2/auth/authorize/?")
    assert len(_sessions()) == 1


@pytest.mark.parametrize(
    "return_to",
    [None, "https://evil.example.com/x", "https://app.example.com@evil.example.com/", "javascript:alert(1)"],
)
def test_start_refuses_return_to_outside_the_allow_list(harness: Harness, return_to: str | None):
    answer = harness.start(return_to=return_to)
    assert answer.status in (400, 422)  # a missing parameter is a validation error, a bad one a 400
    if return_to is not None:
        assert answer.status == 400
        assert answer.json["error"]["code"] == "return_to_not_allowed"
    assert _sessions() == []


def test_start_refuses_scopes_that_cannot_publish(harness: Harness):
    answer = harness.start(scopes="user.info.basic")
    assert answer.status == 422
    assert answer.json["error"]["details"]["missing"] == ["video.publish", "video.upload"]
    assert _sessions() == []


def test_start_without_the_authorizer_context_is_401(harness: Harness):
    answer = harness.start(tenant_id=None)  # type: ignore[arg-type]
    assert answer.status == 401
    assert _sessions() == []


# ------------------------------------------------------------------ callback: success


def test_connect_end_to_end_stores_the_account_with_encrypted_tokens(harness: Harness, connect_env: Any):
    # Given a user who starts connecting
    started = harness.start()
    # When they approve on TikTok's consent page and TikTok sends them to the callback
    tiktok_redirect = consent(started.json["authorize_url"], account="creator_public")
    answer = harness.callback(tiktok_redirect)
    # Then they land back on return_to, query preserved, with the open_id
    assert answer.status == 302
    location = answer.location
    assert location.startswith("https://app.example.com/settings/tiktok?")
    query = _query(location)
    assert query["tab"] == ["accounts"]
    assert query["tiktok"] == ["connected"]
    open_id = query["open_id"][0]
    # And the account is stored with the profile, scopes and both tokens encrypted
    [item] = _accounts()
    emulator_account = connect_env.emulator.config.account("creator_public")
    assert item.open_id == open_id == emulator_account.open_id
    assert item.display_name == emulator_account.display_name
    assert item.username == "creator_public"
    assert item.status == "active"
    assert set(item.scopes) == set(DEFAULT_SCOPES.split(","))
    state = connect_env.emulator.state()
    [access] = [t for t in state["access_tokens"] if not t["revoked"]]
    [refresh] = [t for t in state["refresh_tokens"] if not t["revoked"]]
    raw = connect_env.aws.dynamodb.get_item(
        TableName=connect_env.aws.accounts_table,
        Key={"tenant_id": {"S": "tenant-a"}, "open_id": {"S": open_id}},
    )["Item"]
    for attribute, token in (("access_token_enc", access["token"]), ("refresh_token_enc", refresh["token"])):
        blob = raw[attribute]["B"]
        assert token.encode() not in blob
        assert token not in str(raw)
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    assert AccountRepository().get_tokens("tenant-a", open_id) == (access["token"], refresh["token"])
    # And the session is gone
    assert _sessions() == []


@pytest.mark.parametrize(("mode", "emulator_methods"), [("base64url", ["base64url"])])
def test_pkce_modes_other_than_hex(
    harness: Harness,
    connect_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    emulator_methods: list[str],
):
    from tiktok_publisher import config

    monkeypatch.setenv("PKCE_MODE", mode)
    config.reset_caches()
    connect_env.emulator.configure(pkce_methods=emulator_methods)
    started = harness.start()
    query = _query(started.json["authorize_url"])
    [session] = _sessions()
    assert session.code_verifier
    assert len(query["code_challenge"][0]) == 43  # base64url of 32 bytes, unpadded
    answer = harness.callback(consent(started.json["authorize_url"]))
    assert _query(answer.location)["tiktok"] == ["connected"]


def test_pkce_cannot_be_switched_off(harness: Harness, monkeypatch: pytest.MonkeyPatch):
    # Issue 12: the former PKCE_MODE=off sent authorize requests TikTok now refuses. It fails closed: no
    # session is stored and no authorize URL leaves; the error names the variable, never a value.
    from tiktok_publisher import config

    monkeypatch.setenv("PKCE_MODE", "off")
    config.reset_caches()
    with pytest.raises(config.ConfigError, match="PKCE_MODE"):
        config.get_settings()
    answer = harness.start()
    assert answer.status == 500
    assert "authorize_url" not in answer.text
    monkeypatch.setenv("PKCE_MODE", "hex")  # the table models read the settings too
    config.reset_caches()
    assert _sessions() == []


def test_reconnect_replaces_tokens_and_revives_instead_of_duplicating(harness: Harness, connect_env: Any):
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    first = harness.connect()
    open_id = _query(first.location)["open_id"][0]
    repo = AccountRepository()
    old_tokens = repo.get_tokens("tenant-a", open_id)
    connected_at = repo.get("tenant-a", open_id).connected_at
    repo.mark_needs_reconnect("tenant-a", open_id, "invalid_grant")
    # When the user connects the same TikTok account again
    second = harness.connect()
    # Then one row, active again, new tokens, first connection time kept
    assert _query(second.location)["open_id"] == [open_id]
    [item] = _accounts()
    assert item.status == "active"
    assert item.last_error is None
    assert repo.get_tokens("tenant-a", open_id) != old_tokens
    assert item.connected_at == connected_at
    # And the same for a revoked account
    repo.mark_revoked("tenant-a", open_id, "disconnected")
    third = harness.connect()
    assert _query(third.location)["tiktok"] == ["connected"]
    [item] = _accounts()
    assert item.status == "active"
    assert item.access_token_enc is not None


def test_two_tenants_may_connect_the_same_tiktok_account_separately(harness: Harness):
    harness.connect(tenant_id="tenant-a")
    harness.connect(tenant_id="tenant-b")
    assert len(_accounts("tenant-a")) == 1
    assert len(_accounts("tenant-b")) == 1


# ------------------------------------------------------------------ callback: the user or TikTok says no


def test_user_cancelling_on_the_consent_page_goes_back_with_access_denied(harness: Harness):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"], decision="cancel")
    assert _query(tiktok_redirect)["error"] == ["access_denied"]
    answer = harness.callback(tiktok_redirect)
    assert answer.status == 302
    query = _query(answer.location)
    assert query["tiktok"] == ["error"]
    assert query["reason"] == ["access_denied"]
    assert query["tab"] == ["accounts"]
    assert "open_id" not in query
    assert _accounts() == []
    assert _sessions() == []


def test_partial_scopes_are_refused_naming_what_is_missing_and_the_grant_is_revoked(
    harness: Harness, connect_env: Any
):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"], untick=("video.publish", "video.upload"))
    answer = harness.callback(tiktok_redirect)
    query = _query(answer.location)
    assert query["tiktok"] == ["error"]
    assert query["reason"] == ["missing_scopes"]
    assert query["missing"] == ["video.publish,video.upload"]
    assert _accounts() == []
    # the token we obtained was revoked, so nothing dangles at TikTok
    state = connect_env.emulator.state()
    assert state["access_tokens"]
    assert all(t["revoked"] for t in state["access_tokens"])


@pytest.mark.parametrize("error", ["invalid_scope", "server_error", "something_made_up<script>"])
def test_any_oauth_error_in_the_callback_goes_back_with_a_safe_reason(harness: Harness, error: str):
    started = harness.start()
    state = _query(started.json["authorize_url"])["state"][0]
    from urllib.parse import urlencode

    answer = harness.callback(urlencode({"state": state, "error": error, "error_description": "<b>x</b>"}))
    query = _query(answer.location)
    assert query["tiktok"] == ["error"]
    assert query["reason"] == [error if error.isidentifier() else "oauth_error"]
    assert "<b>" not in answer.location


def test_callback_without_a_code_goes_back_with_missing_code(harness: Harness):
    started = harness.start()
    state = _query(started.json["authorize_url"])["state"][0]
    answer = harness.callback(f"state={state}")
    assert _query(answer.location)["reason"] == ["missing_code"]


# ------------------------------------------------------------------ callback: TikTok fails at token exchange


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"mode": "error200", "code": "invalid_grant"}, "invalid_grant"),
        ({"mode": "error200", "code": "invalid_client"}, "invalid_client"),
        ({"mode": "5xx", "status": 503}, "server_error"),
        ({"mode": "reset"}, "tiktok_unavailable"),
    ],
)
def test_token_exchange_failures_store_nothing(
    harness: Harness, connect_env: Any, fault: dict[str, Any], reason: str
):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    connect_env.emulator.fault("token", **fault)
    answer = harness.callback(tiktok_redirect)
    assert answer.status == 302
    query = _query(answer.location)
    assert query == {"tab": ["accounts"], "tiktok": ["error"], "reason": [reason]}
    assert _accounts() == []
    assert _sessions() == []


def test_token_exchange_timeout_stores_nothing(
    harness: Harness, connect_env: Any, monkeypatch: pytest.MonkeyPatch
):
    from tiktok_publisher import bootstrap

    monkeypatch.setattr(bootstrap, "TIKTOK_TIMEOUT", (2.0, 0.3))
    bootstrap.reset()
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    connect_env.emulator.fault("token", mode="slow", delay_ms=1500)
    answer = harness.callback(tiktok_redirect)
    assert _query(answer.location)["reason"] == ["tiktok_unavailable"]
    assert _accounts() == []


def test_token_exchange_answering_garbage_stores_nothing(
    harness: Harness, connect_env: Any, monkeypatch: pytest.MonkeyPatch, garbage_server: str
):
    from tiktok_publisher import config

    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    monkeypatch.setenv("TIKTOK_API_BASE", garbage_server)  # the token endpoint answers an HTML error page
    config.reset_caches()
    answer = harness.callback(tiktok_redirect)
    assert _query(answer.location)["reason"] == ["tiktok_unavailable"]
    assert _accounts() == []
    assert _sessions() == []


def test_user_info_failure_after_exchange_stores_nothing_and_revokes(harness: Harness, connect_env: Any):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    connect_env.emulator.fault("user_info", mode="5xx", status=500, count=5)
    answer = harness.callback(tiktok_redirect)
    assert _query(answer.location)["reason"] == ["tiktok_unavailable"]
    assert _accounts() == []
    assert all(t["revoked"] for t in connect_env.emulator.state()["access_tokens"])


# ------------------------------------------------------------------ callback: bad state (a dead end)


def test_replayed_state_is_a_dead_end_and_changes_nothing(harness: Harness, connect_env: Any):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    first = harness.callback(tiktok_redirect)
    assert _query(first.location)["tiktok"] == ["connected"]
    [before] = _accounts()
    # When the same redirect is delivered again
    second = harness.callback(tiktok_redirect)
    # Then
    _assert_dead_end_page(second)
    [after] = _accounts()
    assert after.version == before.version


def test_tampered_state_is_a_dead_end(harness: Harness):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    query = _query(tiktok_redirect)
    state_id, expires, mac = query["state"][0].split(".")
    from urllib.parse import urlencode

    for forged in (f"{state_id}.{int(expires) + 3600}.{mac}", f"{state_id}.{expires}.{mac[:-2]}AA"):
        answer = harness.callback(urlencode({"state": forged, "code": query["code"][0]}))
        _assert_dead_end_page(answer)
    assert _accounts() == []
    # the genuine state still works once: the forgeries did not consume it
    assert _query(harness.callback(tiktok_redirect).location)["tiktok"] == ["connected"]


def test_expired_state_is_a_dead_end(harness: Harness, monkeypatch: pytest.MonkeyPatch):
    from tiktok_publisher.bootstrap import Ports

    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    later = int(time.time()) + 601
    monkeypatch.setattr(Ports, "now", staticmethod(lambda: later))
    _assert_dead_end_page(harness.callback(tiktok_redirect))
    assert _accounts() == []


def test_foreign_state_is_a_dead_end(harness: Harness, connect_env: Any):
    started = harness.start()
    tiktok_redirect = consent(started.json["authorize_url"])
    query = _query(tiktok_redirect)
    state_id, expires, _ = query["state"][0].split(".")
    from urllib.parse import urlencode

    key = connect_env.aws.secrets["state_signing_key"].encode()
    # Issue 11: bound to this browser's cookie nonce, so each is refused for its key, stage or session only.
    nonce = next(iter(harness.cookies.values()))
    foreign = [
        sign_state(
            state_id, int(expires), key=b"someone-elses-key", stage="local", browser_nonce=nonce
        ).token,
        sign_state(state_id, int(expires), key=key, stage="prod", browser_nonce=nonce).token,  # another stage
        sign_state(
            new_state_id(), int(expires), key=key, stage="local", browser_nonce=nonce
        ).token,  # no session
    ]
    for token in foreign:
        _assert_dead_end_page(harness.callback(urlencode({"state": token, "code": query["code"][0]})))
    assert _accounts() == []


@pytest.mark.parametrize(
    "query", ["", "code=abc", "state=", "state=not-a-state&code=abc", "error=access_denied"]
)
def test_missing_or_malformed_state_is_a_dead_end(harness: Harness, query: str):
    _assert_dead_end_page(harness.callback(query))


def test_connecting_announces_account_connected_on_the_bus_without_tokens(harness: Harness, connect_env: Any):
    from tiktok_publisher.adapters.accounts_table import AccountRepository

    # When a user connects an account
    first = harness.connect(account="creator_public")
    open_id = _query(first.location)["open_id"][0]

    # Then the bus carries one "Account Connected" naming it, not a reconnection
    events = [e for e in connect_env.aws.published_events() if e["detail-type"] == "Account Connected"]
    assert [e["source"] for e in events] == ["tiktok-publisher"]
    detail = events[0]["detail"]
    assert detail == {
        "tenant_id": "tenant-a",
        "open_id": open_id,
        "display_name": detail["display_name"],
        "username": "creator_public",
        "scopes": DEFAULT_SCOPES.split(","),
        "reconnected": False,
    }
    assert detail["display_name"]
    access, refresh = AccountRepository().get_tokens("tenant-a", open_id)
    assert access not in json.dumps(events)
    assert refresh not in json.dumps(events)

    # And connecting it again (after it needed a reconnect) says so
    AccountRepository().mark_needs_reconnect("tenant-a", open_id, "invalid_grant")
    harness.connect(account="creator_public")
    again = [e for e in connect_env.aws.published_events() if e["detail-type"] == "Account Connected"]
    assert [(e["detail"]["open_id"], e["detail"]["reconnected"]) for e in again] == [(open_id, True)]
