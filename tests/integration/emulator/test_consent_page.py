"""§1 authorize: the consent page a person clicks, its validation, and the callback redirect."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT

SCOPES = ["user.info.basic", "user.info.profile", "video.publish"]


class FormParser(HTMLParser):
    """Collects the consent form's inputs and buttons by id, like a browser test would."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.buttons: dict[str, dict[str, str]] = {}
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input":
            self.inputs.append(values)
        elif tag == "button":
            self.buttons[values.get("id", "")] = values


@pytest.fixture(autouse=True)
def _authorize_without_pkce(emulator: EmulatorHandle) -> None:
    # These tests are about the page and authorize without a challenge: opt out of mandatory PKCE here;
    # test_pkce_required.py covers the default.
    emulator.configure(pkce_required=False)


def fetch_form(emulator: EmulatorHandle, **params: str) -> FormParser:
    response = requests.get(emulator.authorize_url(SCOPES, **params), timeout=TIMEOUT)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    parser = FormParser()
    parser.feed(response.text)
    return parser


def submit(
    emulator: EmulatorHandle, form: FormParser, button: str, account: str, untick: tuple[str, ...] = ()
):
    """Submit as a browser would: hidden fields, the chosen radio, ticked boxes, the clicked button."""
    data: list[tuple[str, str]] = []
    for field in form.inputs:
        if (
            field.get("type") == "hidden"
            or (field.get("type") == "radio" and field["value"] == account)
            or (field.get("type") == "checkbox" and field["value"] not in untick)
        ):
            data.append((field["name"], field["value"]))
    clicked = form.buttons[button]
    data.append((clicked["name"], clicked["value"]))
    return requests.post(
        f"{emulator.base_url}{form.action}", data=data, allow_redirects=False, timeout=TIMEOUT
    )


def callback_params(response: requests.Response, redirect_uri: str) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(redirect_uri + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_page_shows_app_scopes_accounts_and_buttons(emulator: EmulatorHandle) -> None:
    form = fetch_form(emulator)
    html = requests.get(emulator.authorize_url(SCOPES), timeout=TIMEOUT).text
    assert emulator.config.app_name in html
    boxes = {i["value"] for i in form.inputs if i.get("type") == "checkbox"}
    assert boxes == set(SCOPES)
    accounts = {i["value"] for i in form.inputs if i.get("type") == "radio"}
    assert {"creator_public", "creator_private", "creator_banned"} <= accounts
    assert set(form.buttons) >= {"authorize", "cancel"}
    assert form.action == "/v2/auth/authorize/"


def test_approve_by_form_redirects_with_code_scopes_and_state(emulator: EmulatorHandle) -> None:
    form = fetch_form(emulator, state="st-123")
    response = submit(emulator, form, "authorize", "creator_private")
    params = callback_params(response, emulator.config.redirect_uris[0])
    assert params["state"] == "st-123"
    assert params["scopes"] == ",".join(SCOPES)
    assert params["code"]
    # The code is for the account picked on the page.
    token = requests.post(
        f"{emulator.base_url}/v2/oauth/token/",
        data={
            "client_key": emulator.config.client_key,
            "client_secret": emulator.config.client_secret,
            "code": params["code"],
            "grant_type": "authorization_code",
            "redirect_uri": emulator.config.redirect_uris[0],
        },
        timeout=TIMEOUT,
    ).json()
    assert token["open_id"] == emulator.emulator.account("creator_private").open_id


def test_unticked_scopes_are_not_granted(emulator: EmulatorHandle) -> None:
    form = fetch_form(emulator)
    response = submit(emulator, form, "authorize", "creator_public", untick=("video.publish",))
    params = callback_params(response, emulator.config.redirect_uris[0])
    assert params["scopes"] == "user.info.basic,user.info.profile"


def test_cancel_redirects_access_denied(emulator: EmulatorHandle) -> None:
    form = fetch_form(emulator, state="xyz")
    response = submit(emulator, form, "cancel", "creator_public")
    params = callback_params(response, emulator.config.redirect_uris[0])
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == "xyz"
    assert "code" not in params


def test_auto_approve_with_user_and_scopes(emulator: EmulatorHandle) -> None:
    url = emulator.authorize_url(
        SCOPES, auto_approve="1", auto_approve_user="creator_banned", grant_scopes="user.info.basic"
    )
    params = callback_params(
        requests.get(url, allow_redirects=False, timeout=TIMEOUT), emulator.config.redirect_uris[0]
    )
    assert params["scopes"] == "user.info.basic"
    code = emulator.emulator.store.codes[params["code"]]
    assert code.open_id == emulator.emulator.account("creator_banned").open_id


def test_unknown_client_key_is_an_error_page_not_a_redirect(emulator: EmulatorHandle) -> None:
    url = emulator.authorize_url(SCOPES, client_key="nope")
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert 'data-error="invalid_client"' in response.text


def test_redirect_uri_must_match_exactly(emulator: EmulatorHandle) -> None:
    registered = emulator.config.redirect_uris[0]
    for wrong in (registered + "/", registered + "?x=1", registered.replace("127.0.0.1", "localhost"), ""):
        response = requests.get(
            emulator.authorize_url(SCOPES, redirect_uri=wrong), allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 400, wrong
        assert "Location" not in response.headers


def test_bad_response_type_scope_and_pkce_method_redirect_with_error(emulator: EmulatorHandle) -> None:
    redirect_uri = emulator.config.redirect_uris[0]
    cases = [
        ({"response_type": "token"}, SCOPES, "unsupported_response_type"),
        ({}, ["video.delete"], "invalid_scope"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, SCOPES, "invalid_request"),
    ]
    for params, scopes, error in cases:
        response = requests.get(
            emulator.authorize_url(scopes, state="s1", **params), allow_redirects=False, timeout=TIMEOUT
        )
        got = callback_params(response, redirect_uri)
        assert got["error"] == error
        assert got["state"] == "s1"


def test_tampered_form_is_revalidated(emulator: EmulatorHandle) -> None:
    form = fetch_form(emulator)
    for field in form.inputs:
        if field.get("name") == "redirect_uri":
            field["value"] = "https://evil.example/cb"
    response = submit(emulator, form, "authorize", "creator_public")
    assert response.status_code == 400
    assert "Location" not in response.headers
