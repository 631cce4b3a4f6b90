"""§6 sandbox mode: an unaudited app whose only privacy option is SELF_ONLY, whose scopes are limited,
and which only its target users may authorize."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT, Api, error_code

PUBLISH = ["user.info.basic", "video.publish", "video.upload"]


def authorize(emulator: EmulatorHandle, scopes: list[str], account: str) -> requests.Response:
    verifier = secrets.token_urlsafe(48)
    url = emulator.authorize_url(
        scopes,
        code_challenge=hashlib.sha256(verifier.encode()).hexdigest(),
        code_challenge_method="S256",
        auto_approve="1",
        auto_approve_user=account,
    )
    return requests.get(url, allow_redirects=False, timeout=TIMEOUT)


def test_sandbox_is_off_by_default(emulator: EmulatorHandle) -> None:
    assert emulator.config.sandbox is False
    assert emulator.config.sandbox_target_users == ["creator_public", "creator_private"]


def test_creator_info_offers_only_self_only(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(sandbox=True, audited=True)  # a sandbox is never audited, whatever `audited` says
    for account in ("creator_public", "creator_private"):
        data = api(account).creator_info().json()["data"]
        assert data["privacy_level_options"] == ["SELF_ONLY"], account


def test_direct_posts_follow_the_unaudited_rules(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(sandbox=True, audited=True)
    private = api("creator_private")
    response = private.init_direct("FOLLOWER_OF_CREATOR")
    assert (response.status_code, error_code(response)) == (403, "privacy_level_option_mismatch")
    assert error_code(private.init_direct("SELF_ONLY")) == "ok"
    public = api("creator_public")
    response = public.init_direct("SELF_ONLY")
    assert (response.status_code, error_code(response)) == (
        403,
        "unaudited_client_can_only_post_to_private_accounts",
    )
    response = public.init_direct("PUBLIC_TO_EVERYONE")
    assert (response.status_code, error_code(response)) == (403, "privacy_level_option_mismatch")


def test_user_info_outside_sandbox_scopes_is_scope_not_authorized(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    emulator.configure(sandbox=True)
    # Even a token that holds the scopes (issued before the switch) cannot read them in the sandbox.
    client = api("creator_public", ["user.info.basic", "user.info.profile", "user.info.stats"])
    for fields in ("follower_count", "username", "open_id,video_count"):
        response = client.user_info(fields)
        assert (response.status_code, error_code(response)) == (401, "scope_not_authorized"), fields
    assert error_code(client.user_info("open_id,display_name,avatar_url")) == "ok"
    emulator.configure(sandbox_scopes=["user.info.basic", "user.info.stats"])
    assert error_code(client.user_info("follower_count")) == "ok"


def test_asking_for_scopes_outside_the_sandbox_is_invalid_scope(emulator: EmulatorHandle) -> None:
    emulator.configure(sandbox=True)
    response = authorize(emulator, ["user.info.basic", "user.info.stats"], "creator_private")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_scope"]
    allowed = authorize(emulator, [*PUBLISH, "video.list"], "creator_private")
    assert "code" in parse_qs(urlsplit(allowed.headers["Location"]).query)


def test_only_target_users_may_authorize(emulator: EmulatorHandle) -> None:
    emulator.configure(sandbox=True)
    refused = authorize(emulator, PUBLISH, "creator_nocomments")
    assert refused.status_code == 403
    assert "Location" not in refused.headers
    assert 'data-error="unauthorized_client"' in refused.text
    assert "target users" in refused.text
    assert emulator.state()["codes"] == []
    assert emulator.connect("creator_private", PUBLISH)["access_token"]
    emulator.configure(sandbox_target_users=["creator_nocomments"])
    assert authorize(emulator, PUBLISH, "creator_nocomments").status_code == 302
    assert authorize(emulator, PUBLISH, "creator_private").status_code == 403


def test_consent_page_marks_non_target_users_and_refuses_them(emulator: EmulatorHandle) -> None:
    emulator.configure(sandbox=True)
    verifier = secrets.token_urlsafe(48)
    challenge = hashlib.sha256(verifier.encode()).hexdigest()
    page = requests.get(
        emulator.authorize_url(PUBLISH, code_challenge=challenge, code_challenge_method="S256"),
        timeout=TIMEOUT,
    ).text
    assert "not a sandbox target user" in page
    form = {
        "client_key": emulator.config.client_key,
        "redirect_uri": emulator.config.redirect_uris[0],
        "response_type": "code",
        "scope": ",".join(PUBLISH),
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "account": "creator_banned",
        "grant": PUBLISH,
        "decision": "authorize",
    }
    url = f"{emulator.base_url}/v2/auth/authorize/"
    refused = requests.post(url, data=form, allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 403
    assert 'data-error="unauthorized_client"' in refused.text
    accepted = requests.post(
        url, data={**form, "account": "creator_public"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert accepted.status_code == 302
    # Cancelling is still the user's own choice, reported to the client as usual.
    cancelled = requests.post(
        url, data={**form, "decision": "cancel"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert parse_qs(urlsplit(cancelled.headers["Location"]).query)["error"] == ["access_denied"]


def test_command_line_sandbox_flags() -> None:
    from tiktok_emulator.__main__ import build_config, parse_args

    config = build_config(parse_args(["--sandbox", "--target-user", "creator_private"]))
    assert (config.sandbox, config.sandbox_target_users) == (True, ["creator_private"])
    assert build_config(parse_args([])).sandbox is False
