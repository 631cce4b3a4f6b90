"""/legal/privacy and /legal/terms from the console function: filled from the deployment's parameters, an
operator's own file taking the packaged template's place, and a 503 that names what to set until then."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tiktok_publisher.config import Settings
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.entrypoints.console import LegalPages, StaticSite

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "functions" / "console" / "static"
CONFIGURED = Settings(
    company_name="Acme Social Ltd",
    contact_email="privacy@acme.example",
    product_url="https://app.acme.example",
    legal_effective_date="2026-03-01",
    post_retention_days=180,
    log_retention_days=90,
)


def site(settings: Settings = CONFIGURED, overrides: Path | None = None) -> StaticSite:
    return StaticSite(STATIC, legal=LegalPages(overrides, settings=lambda: settings))


def get(app: StaticSite, path: str, headers: dict[str, str] | None = None) -> dict:
    return app.handle(
        {"version": "2.0", "rawPath": path, "rawQueryString": "", "headers": headers or {}}, None
    )


@pytest.mark.parametrize("path", ["/legal/privacy", "/legal/terms", "/legal/privacy/"])
def test_pages_answer_with_the_company_and_every_scope(path):
    answer = get(site(), path)

    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in answer["headers"]["Content-Security-Policy"]
    body = answer["body"]
    assert "Acme Social Ltd" in body
    assert "mailto:privacy@acme.example" in body
    assert "effective 2026-03-01" in body
    for scope in DEFAULT_SCOPES:
        assert f"<code>{scope}</code>" in body
    assert '<link rel="stylesheet" href="/legal.css">' in body
    assert (STATIC / "legal.css").is_file()


def test_privacy_page_states_the_deployments_retention():
    body = get(site(), "/legal/privacy")["body"]

    assert "Post history (titles, settings, status, TikTok IDs): 180 days, then deleted." in body
    assert "never tokens):\n      90 days." in body


def test_pages_revalidate_with_an_etag():
    app = site()
    first = get(app, "/legal/terms")
    again = get(app, "/legal/terms", {"If-None-Match": first["headers"]["ETag"]})

    assert again["statusCode"] == 304


def test_until_the_parameters_are_set_the_pages_say_which_ones():
    # Given a deployment whose operator has not set the legal parameters yet
    answer = get(site(Settings()), "/legal/privacy")

    # Then the page answers 503 and names every template parameter to set
    assert answer["statusCode"] == 503
    for parameter in ("CompanyName", "ContactEmail", "ProductUrl", "LegalEffectiveDate"):
        assert parameter in answer["body"]


def test_a_bad_contact_address_is_named():
    answer = get(site(dataclasses.replace(CONFIGURED, contact_email="nobody")), "/legal/terms")

    assert answer["statusCode"] == 503
    assert "ContactEmail" in answer["body"]
    assert "CompanyName" not in answer["body"]


def test_an_operators_own_file_replaces_the_packaged_page(tmp_path: Path):
    # Given an operator's own privacy.html with the same placeholders (and no terms.html)
    (tmp_path / "privacy.html").write_text("<h1>${company_name} keeps your data safe</h1><p>$$5</p>")

    app = site(overrides=tmp_path)

    # Then their privacy page is served, filled; the terms stay the packaged ones
    assert get(app, "/legal/privacy")["body"] == "<h1>Acme Social Ltd keeps your data safe</h1><p>$5</p>"
    assert "Terms of service" in get(app, "/legal/terms")["body"]


def test_an_operators_file_with_an_unknown_placeholder_is_refused_not_half_rendered(tmp_path: Path):
    (tmp_path / "terms.html").write_text("<p>${company}</p>")

    answer = get(site(overrides=tmp_path), "/legal/terms")

    assert answer["statusCode"] == 503
    assert "terms.html names an unknown placeholder ${company}" in answer["body"]


def test_values_are_escaped_in_the_page():
    hostile = dataclasses.replace(CONFIGURED, company_name="<img src=x onerror=alert(1)>")

    body = get(site(hostile), "/legal/privacy")["body"]

    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
