"""§1/§6 token lifetimes: 2 h / 180 d by default with strict rotation, and access tokens that stop
working before their stated expiry (an admin endpoint, or access_ttl_actual) while refresh still works."""

from __future__ import annotations

import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT, Api, error_code

SCOPES = ["user.info.basic", "video.publish"]


def refresh(emulator: EmulatorHandle, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{emulator.base_url}/v2/oauth/token/",
        data={"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
              "grant_type": "refresh_token", "refresh_token": refresh_token},
        timeout=TIMEOUT,
    )  # fmt: skip


def works(emulator: EmulatorHandle, access_token: str) -> str:
    return error_code(Api(emulator.base_url, access_token).user_info("open_id"))


def test_default_lifetimes_are_2_hours_and_180_days(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_public", SCOPES)
    assert (tokens["expires_in"], tokens["refresh_expires_in"]) == (7200, 15552000)
    emulator.advance(7199)
    assert works(emulator, tokens["access_token"]) == "ok"
    emulator.advance(1)
    assert works(emulator, tokens["access_token"]) == "access_token_invalid"
    renewed = refresh(emulator, tokens["refresh_token"]).json()
    assert renewed["expires_in"] == 7200
    assert works(emulator, renewed["access_token"]) == "ok"
    # Strict rotation: the exchanged refresh token is dead, the new one works until day 180.
    assert refresh(emulator, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    emulator.advance(15552000 - 1)
    newest = refresh(emulator, renewed["refresh_token"]).json()
    assert "access_token" in newest
    emulator.advance(15552000)
    assert refresh(emulator, newest["refresh_token"]).json()["error"] == "invalid_grant"


def test_admin_ends_one_access_token_early(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_public", SCOPES)
    other = emulator.connect("creator_public", SCOPES)
    response = requests.post(
        f"{emulator.base_url}/_admin/expire-access-token",
        json={"access_token": tokens["access_token"]},
        timeout=TIMEOUT,
    )
    assert response.json() == {"ended": 1}
    dead = Api(emulator.base_url, tokens["access_token"]).user_info("open_id")
    assert (dead.status_code, error_code(dead)) == (401, "access_token_invalid")
    assert works(emulator, other["access_token"]) == "ok"  # only that token
    # The grant is alive: one refresh gives a working token (what a client should do on this error).
    renewed = refresh(emulator, tokens["refresh_token"]).json()
    assert works(emulator, renewed["access_token"]) == "ok"
    assert emulator.state()["webhooks"] == []  # no authorization.removed: nothing was revoked
    again = requests.post(
        f"{emulator.base_url}/_admin/expire-access-token",
        json={"access_token": tokens["access_token"]},
        timeout=TIMEOUT,
    )
    assert again.status_code == 404


def test_admin_ends_every_access_token_of_an_account(emulator: EmulatorHandle) -> None:
    first = emulator.connect("creator_public", SCOPES)
    second = emulator.connect("creator_public", SCOPES)
    bystander = emulator.connect("creator_private", SCOPES)
    response = requests.post(
        f"{emulator.base_url}/_admin/expire-access-token", json={"account": "creator_public"}, timeout=TIMEOUT
    )
    assert response.json() == {"ended": 2}
    assert works(emulator, first["access_token"]) == "access_token_invalid"
    assert works(emulator, second["access_token"]) == "access_token_invalid"
    assert works(emulator, bystander["access_token"]) == "ok"
    assert emulator.expire_access_token(account="creator_private") == 1  # the Python helper
    assert works(emulator, bystander["access_token"]) == "access_token_invalid"
    unknown = requests.post(f"{emulator.base_url}/_admin/expire-access-token", json={}, timeout=TIMEOUT)
    assert unknown.status_code == 404


def test_ended_token_cannot_be_revoked(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_public", SCOPES)
    emulator.expire_access_token(tokens["access_token"])
    response = requests.post(
        f"{emulator.base_url}/v2/oauth/revoke/",
        data={"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
              "token": tokens["access_token"]},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert response.json()["error"] == "invalid_grant"


def test_tokens_can_die_before_the_stated_expiry(emulator: EmulatorHandle) -> None:
    """The measured case: expires_in says 24 h, the token stops working after 2 h."""
    emulator.configure(access_ttl=86400, access_ttl_actual=7200)
    tokens = emulator.connect("creator_public", SCOPES)
    assert tokens["expires_in"] == 86400
    emulator.advance(7199)
    assert works(emulator, tokens["access_token"]) == "ok"
    emulator.advance(1)
    assert works(emulator, tokens["access_token"]) == "access_token_invalid"
    assert works(emulator, refresh(emulator, tokens["refresh_token"]).json()["access_token"]) == "ok"
    state = {t["token"]: t for t in emulator.state()["access_tokens"]}
    assert state[tokens["access_token"]]["dies_at"] < state[tokens["access_token"]]["expires_at"]
