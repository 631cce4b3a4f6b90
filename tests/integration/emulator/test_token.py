"""§1 token endpoint: form-only, flat bodies, single-use codes, PKCE (hex quirk), rotation, revoke."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT

SCOPES = ["user.info.basic", "video.publish"]
TOKEN_KEYS = {
    "access_token",
    "expires_in",
    "open_id",
    "refresh_expires_in",
    "refresh_token",
    "scope",
    "token_type",
}


@pytest.fixture(autouse=True)
def _authorize_without_pkce(emulator: EmulatorHandle) -> None:
    # These tests are about codes and tokens and authorize without a challenge unless they test PKCE:
    # opt out of mandatory PKCE here; test_pkce_required.py covers the default.
    emulator.configure(pkce_required=False)


def get_code(emulator: EmulatorHandle, challenge: str | None = None, account: str = "creator_public") -> str:
    params = {"auto_approve": "1", "auto_approve_user": account}
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    url = emulator.authorize_url(SCOPES, **params)
    location = requests.get(url, allow_redirects=False, timeout=TIMEOUT).headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0]


def token_call(emulator: EmulatorHandle, **fields: str) -> requests.Response:
    data = {
        "client_key": emulator.config.client_key,
        "client_secret": emulator.config.client_secret,
        **fields,
    }
    return requests.post(f"{emulator.base_url}/v2/oauth/token/", data=data, timeout=TIMEOUT)


def exchange(emulator: EmulatorHandle, code: str, **extra: str) -> requests.Response:
    return token_call(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri=emulator.config.redirect_uris[0],
        **extra,
    )


def refresh(emulator: EmulatorHandle, refresh_token: str) -> requests.Response:
    return token_call(emulator, grant_type="refresh_token", refresh_token=refresh_token)


def user_info_status(emulator: EmulatorHandle, access_token: str) -> tuple[int, str]:
    response = requests.get(
        f"{emulator.base_url}/v2/user/info/",
        params={"fields": "open_id"},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
    )
    return response.status_code, response.json()["error"]["code"]


def assert_oauth_error(response: requests.Response, error: str, status: int) -> None:
    body = response.json()
    assert response.status_code == status
    assert set(body) == {"error", "error_description", "log_id"}
    assert body["error"] == error
    assert body["log_id"]


def test_success_is_flat(emulator: EmulatorHandle) -> None:
    emulator.configure(
        access_ttl=86400, refresh_ttl=31536000
    )  # the classic docs' lifetimes, still configurable
    response = exchange(emulator, get_code(emulator))
    body = response.json()
    assert response.status_code == 200
    assert set(body) == TOKEN_KEYS
    assert body["token_type"] == "Bearer"
    assert body["scope"] == ",".join(SCOPES)
    assert body["expires_in"] == 86400
    assert body["refresh_expires_in"] == 31536000
    assert body["access_token"].startswith("act.")
    assert body["refresh_token"].startswith("rft.")


def test_json_body_is_rejected(emulator: EmulatorHandle) -> None:
    code = get_code(emulator)
    body = {
        "client_key": emulator.config.client_key,
        "client_secret": emulator.config.client_secret,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": emulator.config.redirect_uris[0],
    }
    response = requests.post(f"{emulator.base_url}/v2/oauth/token/", json=body, timeout=TIMEOUT)
    assert_oauth_error(response, "invalid_request", 400)
    # The code was not consumed by the rejected call.
    assert exchange(emulator, code).status_code == 200


def test_code_is_single_use(emulator: EmulatorHandle) -> None:
    code = get_code(emulator)
    assert exchange(emulator, code).status_code == 200
    assert_oauth_error(exchange(emulator, code), "invalid_grant", 200)


def test_code_expires_on_the_emulator_clock(emulator: EmulatorHandle) -> None:
    code = get_code(emulator)
    emulator.advance(601)
    assert_oauth_error(exchange(emulator, code), "invalid_grant", 200)


def test_code_ttl_is_configurable(emulator: EmulatorHandle) -> None:
    emulator.configure(code_ttl=30)
    code = get_code(emulator)
    emulator.advance(31)
    assert_oauth_error(exchange(emulator, code), "invalid_grant", 200)


def test_redirect_uri_must_equal_the_authorize_one(emulator: EmulatorHandle) -> None:
    code = get_code(emulator)
    response = token_call(
        emulator, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:3000/other"
    )
    assert_oauth_error(response, "invalid_grant", 200)


def test_bad_client_credentials(emulator: EmulatorHandle) -> None:
    code = get_code(emulator)
    response = requests.post(
        f"{emulator.base_url}/v2/oauth/token/",
        data={"client_key": emulator.config.client_key, "client_secret": "wrong", "code": code,
              "grant_type": "authorization_code", "redirect_uri": emulator.config.redirect_uris[0]},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert_oauth_error(response, "invalid_client", 401)


def test_unsupported_grant_type(emulator: EmulatorHandle) -> None:
    assert_oauth_error(token_call(emulator, grant_type="client_credentials"), "unsupported_grant_type", 400)


def test_invalid_grant_with_http_400_when_configured(emulator: EmulatorHandle) -> None:
    emulator.configure(oauth_errors_http_200=False)
    assert_oauth_error(exchange(emulator, "no-such-code"), "invalid_grant", 400)


# --- PKCE -----------------------------------------------------------------------------------------
def hex_challenge(verifier: str) -> str:
    return hashlib.sha256(verifier.encode()).hexdigest()


def b64_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_pkce_hex_challenge_accepted(emulator: EmulatorHandle) -> None:
    verifier = secrets.token_urlsafe(48)
    assert (
        exchange(emulator, get_code(emulator, hex_challenge(verifier)), code_verifier=verifier).status_code
        == 200
    )


def test_pkce_wrong_verifier(emulator: EmulatorHandle) -> None:
    verifier = secrets.token_urlsafe(48)
    response = exchange(emulator, get_code(emulator, hex_challenge(verifier)), code_verifier=verifier + "x")
    assert_oauth_error(response, "invalid_grant", 200)


def test_pkce_verifier_required_when_challenged(emulator: EmulatorHandle) -> None:
    verifier = secrets.token_urlsafe(48)
    assert_oauth_error(
        exchange(emulator, get_code(emulator, hex_challenge(verifier))), "invalid_request", 400
    )


def test_pkce_base64url_rejected_by_default(emulator: EmulatorHandle) -> None:
    verifier = secrets.token_urlsafe(48)
    response = exchange(emulator, get_code(emulator, b64_challenge(verifier)), code_verifier=verifier)
    assert_oauth_error(response, "invalid_grant", 200)


def test_pkce_base64url_accepted_when_configured(emulator: EmulatorHandle) -> None:
    emulator.configure(pkce_methods=["hex", "base64url"])
    for challenge in (b64_challenge, hex_challenge):
        verifier = secrets.token_urlsafe(48)
        assert (
            exchange(emulator, get_code(emulator, challenge(verifier)), code_verifier=verifier).status_code
            == 200
        )


def test_web_flow_without_pkce(emulator: EmulatorHandle) -> None:
    assert exchange(emulator, get_code(emulator)).status_code == 200


# --- refresh and revoke -----------------------------------------------------------------------------
def test_strict_rotation(emulator: EmulatorHandle) -> None:
    first = exchange(emulator, get_code(emulator)).json()
    second = refresh(emulator, first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert set(new) == TOKEN_KEYS
    assert new["refresh_token"] != first["refresh_token"]
    assert new["access_token"] != first["access_token"]
    assert new["open_id"] == first["open_id"]
    assert new["scope"] == first["scope"]
    # The old refresh token died when the new one was issued...
    assert_oauth_error(refresh(emulator, first["refresh_token"]), "invalid_grant", 200)
    # ...the old access token keeps working until it expires...
    assert user_info_status(emulator, first["access_token"]) == (200, "ok")
    # ...and the newest refresh token works.
    assert refresh(emulator, new["refresh_token"]).status_code == 200


def test_lifetimes_are_configurable_and_enforced(emulator: EmulatorHandle) -> None:
    emulator.configure(access_ttl=7200, refresh_ttl=15552000)
    tokens = exchange(emulator, get_code(emulator)).json()
    assert (tokens["expires_in"], tokens["refresh_expires_in"]) == (7200, 15552000)
    emulator.advance(7201)
    assert user_info_status(emulator, tokens["access_token"]) == (401, "access_token_invalid")
    renewed = refresh(emulator, tokens["refresh_token"]).json()
    assert user_info_status(emulator, renewed["access_token"]) == (200, "ok")
    emulator.advance(15552001)
    assert_oauth_error(refresh(emulator, renewed["refresh_token"]), "invalid_grant", 200)


def test_revoke_kills_access_and_refresh_chain(emulator: EmulatorHandle) -> None:
    first = exchange(emulator, get_code(emulator)).json()
    second = refresh(emulator, first["refresh_token"]).json()
    response = requests.post(
        f"{emulator.base_url}/v2/oauth/revoke/",
        data={"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
              "token": second["access_token"]},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json() == {}
    assert user_info_status(emulator, second["access_token"]) == (401, "access_token_invalid")
    assert user_info_status(emulator, first["access_token"]) == (401, "access_token_invalid")
    assert_oauth_error(refresh(emulator, second["refresh_token"]), "invalid_grant", 200)


def test_revoking_a_dead_token_is_an_oauth_error(emulator: EmulatorHandle) -> None:
    tokens = exchange(emulator, get_code(emulator)).json()
    data = {"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
            "token": tokens["access_token"]}  # fmt: skip
    url = f"{emulator.base_url}/v2/oauth/revoke/"
    assert requests.post(url, data=data, timeout=TIMEOUT).json() == {}
    assert_oauth_error(requests.post(url, data=data, timeout=TIMEOUT), "invalid_grant", 200)
    assert_oauth_error(requests.post(url, json=data, timeout=TIMEOUT), "invalid_request", 400)


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
def test_missing_fields_are_invalid_request(emulator: EmulatorHandle, grant: str) -> None:
    assert_oauth_error(token_call(emulator, grant_type=grant), "invalid_request", 400)


def test_code_with_special_characters_must_be_url_decoded(emulator: EmulatorHandle) -> None:
    code = get_code(emulator)
    assert "*" in code
    assert "!" in code
    location_code = requests.utils.quote(code, safe="")
    assert_oauth_error(exchange(emulator, location_code), "invalid_grant", 200)
    assert exchange(emulator, code).status_code == 200


def test_connect_helper(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private", SCOPES)
    assert user_info_status(emulator, tokens["access_token"]) == (200, "ok")
