"""Connecting and disconnecting through the local stack, as a user would: a dev JWT, the start route, the
emulator's consent page (parsed and submitted like a browser), the callback through the gateway."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from tests.integration.connect.harness import consent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]
TIMEOUT = 30


def _tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:12]}"


def _auth(stack: Any, tenant_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.dev_token(tenant_id, 'user-1')}"}


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _emulator_state(stack: Any) -> dict[str, Any]:
    answer = requests.get(f"{stack.emulator_url}/_admin/state", timeout=TIMEOUT)
    answer.raise_for_status()
    return dict(answer.json())


# The user's browser (issue 11): the start's browser-binding cookie goes back with TikTok's redirect.
BROWSER = requests.Session()


def _start(stack: Any, headers: dict[str, str], return_to: str) -> str:
    answer = BROWSER.get(
        f"{stack.gateway_url}/v1/oauth/tiktok/start",
        params={"return_to": return_to},
        headers=headers,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["authorize_url"])


def _land_on_callback(stack: Any, tiktok_redirect: str) -> requests.Response:
    """Follow TikTok's redirect to our callback through the gateway, not beyond (return_to is the app's)."""
    assert tiktok_redirect.startswith(f"{stack.gateway_url}/v1/oauth/tiktok/callback?")
    return BROWSER.get(tiktok_redirect, allow_redirects=False, timeout=TIMEOUT)


def test_connect_list_and_disconnect_as_a_user(local_stack: Any):
    stack = local_stack
    tenant = _tenant()
    headers = _auth(stack, tenant)
    return_to = f"{stack.gateway_url}/app/settings?tab=tiktok"
    tokens_before = {t["token"] for t in _emulator_state(stack)["access_tokens"]}

    # Given the user starts connecting from the app and approves on TikTok's consent page
    authorize_url = _start(stack, headers, return_to)
    assert authorize_url.startswith(f"{stack.tiktok_auth_base}/v2/auth/authorize/?")
    tiktok_redirect = consent(authorize_url, account="creator_public")
    # When their browser lands on the callback
    landed = _land_on_callback(stack, tiktok_redirect)
    # Then they are sent back to the app with the open_id
    assert landed.status_code == 302, landed.text
    location = landed.headers["Location"]
    assert location.startswith(f"{stack.gateway_url}/app/settings?")
    query = _query(location)
    assert query["tab"] == ["tiktok"]
    assert query["tiktok"] == ["connected"]
    open_id = query["open_id"][0]
    # And the account is listed
    listed = requests.get(f"{stack.gateway_url}/v1/accounts", headers=headers, timeout=TIMEOUT)
    assert listed.status_code == 200
    [account] = listed.json()["accounts"]
    assert account["open_id"] == open_id
    assert account["username"] == "creator_public"
    assert account["status"] == "active"
    [new_token] = [
        t["token"] for t in _emulator_state(stack)["access_tokens"] if t["token"] not in tokens_before
    ]
    assert new_token not in listed.text

    # When they disconnect it
    deleted = requests.delete(f"{stack.gateway_url}/v1/accounts/{open_id}", headers=headers, timeout=TIMEOUT)
    assert deleted.status_code == 204
    # Then TikTok's token is revoked and the account shows as revoked
    revoked = next(t for t in _emulator_state(stack)["access_tokens"] if t["token"] == new_token)
    assert revoked["revoked"] is True
    detail = requests.get(f"{stack.gateway_url}/v1/accounts/{open_id}", headers=headers, timeout=TIMEOUT)
    assert detail.json()["status"] == "revoked"


def test_cancelling_on_the_consent_page_goes_back_with_access_denied(local_stack: Any):
    stack = local_stack
    headers = _auth(stack, _tenant())
    authorize_url = _start(stack, headers, f"{stack.gateway_url}/app")
    landed = _land_on_callback(stack, consent(authorize_url, decision="cancel"))
    assert landed.status_code == 302
    query = _query(landed.headers["Location"])
    assert query["tiktok"] == ["error"]
    assert query["reason"] == ["access_denied"]
    listed = requests.get(f"{stack.gateway_url}/v1/accounts", headers=headers, timeout=TIMEOUT)
    assert listed.json() == {"accounts": []}


def test_the_same_callback_twice_is_a_dead_end_the_second_time(local_stack: Any):
    stack = local_stack
    headers = _auth(stack, _tenant())
    tiktok_redirect = consent(_start(stack, headers, f"{stack.gateway_url}/app"))
    assert _land_on_callback(stack, tiktok_redirect).status_code == 302
    again = _land_on_callback(stack, tiktok_redirect)
    assert again.status_code == 400
    assert again.headers["Content-Type"].startswith("text/html")
    assert "Location" not in again.headers
    assert "<script" not in again.text.lower()
    assert "refresh" not in again.text.lower()


def test_start_with_redirect_sends_the_browser_to_tiktok(local_stack: Any):
    stack = local_stack
    answer = requests.get(
        f"{stack.gateway_url}/v1/oauth/tiktok/start",
        params={"return_to": f"{stack.gateway_url}/app", "redirect": "1"},
        headers=_auth(stack, _tenant()),
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{stack.tiktok_auth_base}/v2/auth/authorize/?")


def test_return_to_outside_the_allow_list_is_refused(local_stack: Any):
    stack = local_stack
    answer = requests.get(
        f"{stack.gateway_url}/v1/oauth/tiktok/start",
        params={"return_to": "https://evil.example.com/"},
        headers=_auth(stack, _tenant()),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "return_to_not_allowed"


def _jwt(stack: Any, *, alg: str = "HS256", key: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "tenant_id": "tenant-jwt",
        "aud": "tiktok-publisher",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    if alg == "none":
        return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    return jwt.encode(claims, key or stack.jwt_secret, algorithm=alg)


@pytest.mark.parametrize(
    "case",
    ["missing", "not_bearer", "garbage", "expired", "wrong_audience", "unsigned_alg_none", "wrong_secret"],
)
def test_bad_jwts_are_refused_on_every_authenticated_connect_route(local_stack: Any, case: str):
    stack = local_stack
    token = {
        "garbage": "not.a.jwt",
        "expired": _jwt(stack, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "wrong_audience": _jwt(stack, aud="someone-else"),
        "unsigned_alg_none": _jwt(stack, alg="none"),
        "wrong_secret": _jwt(stack, key="not-the-secret-not-the-secret-123"),
    }.get(case)
    headers = {} if case == "missing" else {"Authorization": f"Bearer {token}"}
    if case == "not_bearer":
        headers = {"Authorization": f"Basic {_jwt(stack)}"}
    for method, path in (
        ("GET", "/v1/oauth/tiktok/start?return_to=" + stack.gateway_url),
        ("GET", "/v1/accounts"),
        ("GET", "/v1/accounts/some-open-id"),
        ("DELETE", "/v1/accounts/some-open-id"),
        ("GET", "/v1/accounts/some-open-id/creator-info"),
    ):
        answer = requests.request(method, f"{stack.gateway_url}{path}", headers=headers, timeout=TIMEOUT)
        assert answer.status_code in (401, 403), (case, method, path, answer.status_code)
        assert "authorize_url" not in answer.text
        assert "accounts" not in answer.text


def test_the_same_valid_jwt_passes(local_stack: Any):
    """The counterpart of the bad-JWT cases: the helper's well-formed token is accepted."""
    answer = requests.get(
        f"{local_stack.gateway_url}/v1/accounts",
        headers={"Authorization": f"Bearer {_jwt(local_stack)}"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200


def test_another_tenants_account_is_404_on_every_route_through_the_gateway(local_stack: Any):
    stack = local_stack
    owner = _auth(stack, _tenant())
    intruder = _auth(stack, _tenant())
    landed = _land_on_callback(stack, consent(_start(stack, owner, f"{stack.gateway_url}/app")))
    open_id = _query(landed.headers["Location"])["open_id"][0]
    before = requests.get(f"{stack.gateway_url}/v1/accounts/{open_id}", headers=owner, timeout=TIMEOUT).json()
    live_before = [t for t in _emulator_state(stack)["access_tokens"] if not t["revoked"]]
    for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/creator-info")):
        answer = requests.request(
            method, f"{stack.gateway_url}/v1/accounts/{open_id}{path}", headers=intruder, timeout=TIMEOUT
        )
        assert answer.status_code == 404, (method, path)
    after = requests.get(f"{stack.gateway_url}/v1/accounts/{open_id}", headers=owner, timeout=TIMEOUT).json()
    assert after == before
    assert [t for t in _emulator_state(stack)["access_tokens"] if not t["revoked"]] == live_before


def test_openapi_document_is_public(local_stack: Any):
    answer = requests.get(f"{local_stack.gateway_url}/v1/openapi.json", timeout=TIMEOUT)
    assert answer.status_code == 200
    doc = answer.json()
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    assert "/v1/accounts/{open_id}/creator-info" in doc["paths"]


def test_the_callback_url_opened_in_another_browser_is_refused(local_stack: Any):
    # Issue 11 (RFC 9700): a tenant sends its authorize URL to a creator, who consents in their own browser.
    stack = local_stack
    tenant = _tenant()
    tenant_browser = requests.Session()
    answer = tenant_browser.get(
        f"{stack.gateway_url}/v1/oauth/tiktok/start",
        params={"return_to": stack.gateway_url + "/"},
        headers=_auth(stack, tenant),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    set_cookie = answer.headers["Set-Cookie"]
    # Local stack on http://127.0.0.1: the documented exception to __Host-/Secure; the rest holds.
    assert set_cookie.startswith("tiktok-connect=")
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= {a.strip() for a in set_cookie.split(";")}
    creator_browser = requests.Session()
    tiktok_redirect = consent(
        answer.json()["authorize_url"], account="creator_public", session=creator_browser
    )
    assert tiktok_redirect.startswith(f"{stack.gateway_url}/v1/oauth/tiktok/callback?")

    # When the creator's browser (no cookie) lands on the callback, it is refused and nothing is connected
    refused = creator_browser.get(tiktok_redirect, allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 400
    assert "This link cannot be used" in refused.text
    assert "Location" not in refused.headers
    listed = requests.get(f"{stack.gateway_url}/v1/accounts", headers=_auth(stack, tenant), timeout=TIMEOUT)
    assert listed.json()["accounts"] == []

    # And the same URL in the browser that started the flow connects (the refusal consumed nothing)
    accepted = tenant_browser.get(tiktok_redirect, allow_redirects=False, timeout=TIMEOUT)
    assert accepted.status_code == 302, accepted.text
    assert _query(accepted.headers["Location"])["tiktok"] == ["connected"]
    assert "Max-Age=0" in accepted.headers["Set-Cookie"]
