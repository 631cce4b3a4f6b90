"""Authorize URL shape, the return_to allow-list (open-redirect tricks included) and result redirects."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from tiktok_publisher.connect.urls import ReturnToNotAllowed, authorize_url, check_return_to, with_query

ALLOWED = ["https://app.example.com", "http://127.0.0.1:5173"]


def test_authorize_url_carries_tiktoks_parameter_names():
    url = authorize_url(
        "https://www.tiktok.com/",
        client_key="ck",
        scopes=["user.info.basic", "video.publish"],
        redirect_uri="https://api.example.com/v1/oauth/tiktok/callback",
        state="s.1.m",
        code_challenge="abc",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.tiktok.com", "/v2/auth/authorize/")
    query = parse_qs(parts.query)
    assert query == {
        "client_key": ["ck"],
        "scope": ["user.info.basic,video.publish"],
        "redirect_uri": ["https://api.example.com/v1/oauth/tiktok/callback"],
        "state": ["s.1.m"],
        "response_type": ["code"],
        "code_challenge": ["abc"],
        "code_challenge_method": ["S256"],
    }


@pytest.mark.parametrize("challenge", [None, ""])
def test_authorize_url_without_pkce_is_refused(challenge: str | None):
    # Issue 12: TikTok refuses web authorize requests without code_challenge, so we never build one.
    with pytest.raises(ValueError, match="code_challenge"):
        authorize_url(
            "https://t",
            client_key="ck",
            scopes=["a"],
            redirect_uri="https://r",
            state="s",
            code_challenge=challenge,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com",
        "https://app.example.com/",
        "https://app.example.com/settings/tiktok?tab=1#done",
        "https://APP.example.com:443/x",
        "http://127.0.0.1:5173/cb",
    ],
)
def test_return_to_on_an_allowed_origin_passes_unchanged(url: str):
    assert check_return_to(url, ALLOWED) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "/relative/path",
        "//evil.example.com/x",
        "https://evil.example.com/",
        "https://app.example.com.evil.com/",
        "https://app.example.com@evil.com/",
        "https://evil.com\\@app.example.com/",
        "https://evil.com#@app.example.com/",
        "http://app.example.com/",  # scheme is part of the origin
        "https://app.example.com:8443/",  # so is the port
        "https://sub.app.example.com/",
        "javascript:alert(1)//app.example.com",
        "data:text/html,hi",
        "https://app.example.com/\r\nLocation: https://evil.com",
        "https://app.example.com/ x",
        "http://127.0.0.1:5174/",
        "https://app.example.com/" + "a" * 3000,
    ],
)
def test_return_to_outside_the_allow_list_is_refused(url: str | None):
    with pytest.raises(ReturnToNotAllowed) as info:
        check_return_to(url, ALLOWED)
    assert info.value.status_code == 400


def test_empty_allow_list_refuses_everything():
    with pytest.raises(ReturnToNotAllowed):
        check_return_to("https://app.example.com/", [])


def test_with_query_keeps_existing_parameters_and_fragment():
    url = with_query(
        "https://app.example.com/cb?tab=tiktok&x=1#top", {"tiktok": "connected", "open_id": "o-1"}
    )
    parts = urlsplit(url)
    assert parse_qsl(parts.query) == [
        ("tab", "tiktok"),
        ("x", "1"),
        ("tiktok", "connected"),
        ("open_id", "o-1"),
    ]
    assert parts.fragment == "top"
    assert url.startswith("https://app.example.com/cb?")


def test_with_query_replaces_a_spoofed_result_parameter():
    url = with_query(
        "https://app.example.com/cb?tiktok=connected&open_id=fake&keep=1",
        {"tiktok": "error", "reason": "x"},
        drop=["open_id"],
    )
    assert parse_qs(urlsplit(url).query) == {"keep": ["1"], "tiktok": ["error"], "reason": ["x"]}


def test_with_query_encodes_values():
    url = with_query("https://app.example.com/", {"missing": "video.publish,video.upload"})
    assert parse_qs(urlsplit(url).query) == {"missing": ["video.publish,video.upload"]}
