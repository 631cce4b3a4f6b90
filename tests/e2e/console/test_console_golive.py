"""The console says plainly when the app is unaudited, and links the legal pages, which open in a browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from local_stack.stack import LOCAL_COMPANY_NAME
from tests.e2e.console.ui import Console, tenant
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack")]


def test_sandbox_banner_and_the_legal_pages(local_stack: Any, new_page, screenshot_dir):
    page = new_page()
    Console(page, local_stack).sign_in_as(tenant())

    # The app is unaudited: the console says what TikTok allows
    banner = page.locator("#audit-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Sandbox mode. This app hasn't been audited by TikTok yet.")
    expect(banner).to_contain_text("SELF_ONLY only")
    expect(banner).to_contain_text("Only private TikTok accounts can post")
    expect(banner).to_contain_text("At most 5 users can post a day")
    page.screenshot(path=str(screenshot_dir / "sandbox-banner.png"))

    # The legal pages are linked from the console and open
    page.get_by_role("link", name="Privacy policy").click()
    expect(page.get_by_role("heading", name="Privacy policy", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(LOCAL_COMPANY_NAME)
    expect(page.locator("main")).to_contain_text("encrypted at rest with AWS KMS")
    for scope in DEFAULT_SCOPES:
        expect(page.locator("table code", has_text=scope)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "privacy-policy.png"), full_page=True)
    page.get_by_role("link", name="Terms of service").click()
    expect(page.get_by_role("heading", name="Terms of service", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(LOCAL_COMPANY_NAME)
    page.get_by_role("link", name="Back to the console").click()
    expect(page.get_by_role("heading", name="TikTok accounts")).to_be_visible()
