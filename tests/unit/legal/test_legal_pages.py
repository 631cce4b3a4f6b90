"""The privacy policy and terms of service: every disclosure TikTok's reviewers look for, filled from the
operator's parameters, every value HTML-escaped, and a clear refusal of parameters a page cannot carry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from html.parser import HTMLParser

import pytest

from tiktok_publisher.connect.scopes import DEFAULT_SCOPES, KNOWN_SCOPES
from tiktok_publisher.legal.pages import (
    PAGES,
    SCOPE_PURPOSES,
    LegalParams,
    packaged_template,
    page_values,
    render_page,
)

PARAMS = LegalParams(
    company_name="Acme Social Ltd",
    contact_email="privacy@acme.example",
    product_url="https://app.acme.example",
    data_retention_days=365,
    log_retention_days=90,
    scopes=DEFAULT_SCOPES,
    effective_date=dt.date(2026, 3, 1),
)


class _Text(HTMLParser):
    """The visible text of a page and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(v or "" for k, v in attrs if k == "href")


def _read(page: str, params: LegalParams = PARAMS) -> _Text:
    parser = _Text()
    parser.feed(render_page(packaged_template(page), params))  # type: ignore[arg-type]
    return parser


def _words(parsed: _Text) -> str:
    return " ".join(" ".join(parsed.text).split())


def test_every_known_scope_has_a_stated_purpose():
    assert set(SCOPE_PURPOSES) == set(KNOWN_SCOPES)


@pytest.mark.parametrize("page", PAGES)
def test_pages_name_the_company_contact_product_and_every_scope_with_its_reason(page):
    # When the page is rendered with the operator's parameters
    parsed = _read(page)
    text = _words(parsed)

    # Then it names the company, the product and the contact, and links them
    assert "Acme Social Ltd" in text
    assert "https://app.acme.example" in parsed.links
    assert "mailto:privacy@acme.example" in parsed.links
    assert "effective 2026-03-01" in text
    # And every scope the app asks for, with why
    for scope in DEFAULT_SCOPES:
        assert scope in text
        assert " ".join(SCOPE_PURPOSES[scope].split()) in text
    # And it links the other page
    assert ("/legal/terms" if page == "privacy" else "/legal/privacy") in parsed.links


def test_privacy_policy_carries_the_reviewers_disclosures():
    text = _words(_read("privacy"))

    # What TikTok data is read: profile fields and creator info
    for field in ("open ID", "display name", "avatar", "@username", "Creator info", "nickname"):
        assert field in text, field
    # Tokens encrypted at rest with KMS
    assert "encrypted at rest with AWS KMS" in text
    # Retention of posts, uploads and logs, from the parameters
    assert "Post history (titles, settings, status, TikTok IDs): 1 year, then deleted." in text
    assert (
        "Operational logs (request metadata such as time, IP address and status; never tokens): 90 days."
        in (text)
    )
    assert "Uploaded media files: 7 days after upload." in text
    # Disconnecting deletes the tokens; how to delete everything
    assert "delete your tokens" in text
    assert "Delete everything" in text
    assert "your account record, your post history and your uploaded files" in text


def test_retention_in_days_reads_naturally():
    assert page_values(dataclasses.replace(PARAMS, data_retention_days=30))["data_retention"] == "30 days"
    assert page_values(dataclasses.replace(PARAMS, data_retention_days=730))["data_retention"] == "2 years"
    assert page_values(dataclasses.replace(PARAMS, data_retention_days=1))["data_retention"] == "1 day"


def test_every_value_is_html_escaped():
    # Given a company name that is markup
    hostile = dataclasses.replace(PARAMS, company_name='<script>alert("x")</script> & Co')

    # When both pages are rendered
    for page in PAGES:
        rendered = render_page(packaged_template(page), hostile)
        # Then the markup shows as text and never runs
        assert "<script>" not in rendered
        assert html.escape('<script>alert("x")</script> & Co') in rendered


def test_an_operator_template_uses_the_same_placeholders():
    own = "<h1>$company_name privacy</h1><p>Write to ${contact_email}. Scopes: $scope_list. Cost: $$0</p>"

    assert render_page(own, PARAMS) == (
        "<h1>Acme Social Ltd privacy</h1><p>Write to privacy@acme.example. "
        "Scopes: user.info.basic, user.info.profile, video.publish, video.upload. Cost: $0</p>"
    )


def test_a_template_naming_an_unknown_placeholder_fails_instead_of_rendering_half():
    with pytest.raises(KeyError, match="company"):
        render_page("<p>$company</p>", PARAMS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"company_name": "  "}, "company name is empty"),
        ({"contact_email": "not an address"}, "contact email must be an address"),
        ({"contact_email": "a@b.c<script>"}, "contact email must be an address"),
        ({"product_url": "ftp://acme.example"}, "product URL must start with https://"),
        ({"data_retention_days": 0}, "data_retention_days must be at least 1"),
        ({"scopes": ()}, "no scopes listed"),
        (
            {"scopes": ("video.publish", "user.info.secret")},
            "no stated purpose for scope(s) user.info.secret",
        ),
    ],
)
def test_parameters_a_page_cannot_carry_are_refused_with_what_to_fix(change, message):
    with pytest.raises(ValueError, match="legal page parameters") as raised:
        dataclasses.replace(PARAMS, **change)
    assert message in str(raised.value)


def test_unknown_page_is_not_a_file_lookup():
    with pytest.raises(KeyError):
        packaged_template("../../etc/passwd")  # type: ignore[arg-type]
