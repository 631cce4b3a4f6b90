"""§1 PKCE always required (seen): an authorize request without code_challenge gets TikTok's error page."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT

SCOPES = ["user.info.basic", "video.publish"]


def challenge_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, hashlib.sha256(verifier.encode()).hexdigest()


def test_pkce_is_required_by_default(emulator: EmulatorHandle) -> None:
    assert emulator.config.pkce_required is True


def test_authorize_without_challenge_is_an_error_page_not_a_redirect(emulator: EmulatorHandle) -> None:
    for params in ({}, {"auto_approve": "1", "auto_approve_user": "creator_private"}):
        response = requests.get(
            emulator.authorize_url(SCOPES, **params), allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 400, params
        assert "Location" not in response.headers
        assert 'data-error="code_challenge"' in response.text
        assert "correct the following and try again" in response.text
    assert emulator.state()["codes"] == []


def test_consent_form_posted_without_challenge_is_refused(emulator: EmulatorHandle) -> None:
    form = {
        "client_key": emulator.config.client_key,
        "redirect_uri": emulator.config.redirect_uris[0],
        "response_type": "code",
        "scope": ",".join(SCOPES),
        "state": "s",
        "code_challenge": "",
        "code_challenge_method": "",
        "account": "creator_private",
        "grant": SCOPES,
        "decision": "authorize",
    }
    response = requests.post(
        f"{emulator.base_url}/v2/auth/authorize/", data=form, allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert 'data-error="code_challenge"' in response.text


def test_other_authorize_errors_still_redirect_first(emulator: EmulatorHandle) -> None:
    """A bad scope or response_type is reported to the client as before, even without a challenge."""
    url = emulator.authorize_url(["video.delete"], state="s1")
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_authorize_with_hex_challenge_works(emulator: EmulatorHandle) -> None:
    verifier, challenge = challenge_pair()
    url = emulator.authorize_url(
        SCOPES,
        code_challenge=challenge,
        code_challenge_method="S256",
        auto_approve="1",
        auto_approve_user="creator_private",
    )
    location = requests.get(url, allow_redirects=False, timeout=TIMEOUT).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = requests.post(
        f"{emulator.base_url}/v2/oauth/token/",
        data={"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
              "code": code, "grant_type": "authorization_code",
              "redirect_uri": emulator.config.redirect_uris[0], "code_verifier": verifier},
        timeout=TIMEOUT,
    ).json()  # fmt: skip
    assert token["access_token"].startswith("act.")
    # The helper every other test uses sends a challenge, as a client must now.
    assert emulator.connect("creator_public", SCOPES)["access_token"]


def test_pkce_can_be_made_optional_again(emulator: EmulatorHandle) -> None:
    emulator.configure(pkce_required=False)
    url = emulator.authorize_url(SCOPES, auto_approve="1")
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert "code" in parse_qs(urlsplit(response.headers["Location"]).query)
