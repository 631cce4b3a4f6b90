"""The console's sign-in and accounts, in headless chromium on the local stack: one-click dev sign-in, connect
through the emulator's consent page (approve and cancel), disconnect with confirmation, reconnect, 401."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.console.ui import Console, tenant

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack")]
TOKEN_KEY = "tiktok-publisher.token"


def test_one_click_dev_sign_in_connect_disconnect_and_reconnect(local_stack: Any, new_page):
    page = new_page()
    ui = Console(page, local_stack).open()

    # Given the local stack, the sign-in offers its dev token with one click
    dev = page.get_by_role("button", name="Use local dev token")
    expect(dev).to_be_visible()
    dev.click()
    expect(page.get_by_role("heading", name="TikTok accounts")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')").count(".") == 2  # a JWT, this tab only

    # When the user starts connecting and cancels on TikTok's consent page
    page.get_by_role("button", name="Connect a TikTok account").click()
    ui.consent("creator_nocomments", decision="Cancel")
    # Then the console says so, and the result parameters are gone from the address bar
    expect(page.get_by_text("You cancelled on TikTok's page, so nothing was connected.")).to_be_visible()
    assert "tiktok=" not in page.url

    # When they connect and approve
    row = ui.connect("creator_nocomments")
    # Then the account is listed with its avatar, nickname and status
    expect(row.locator(".account__name")).to_have_text("Creator Nocomments")
    expect(row.locator(".badge")).to_have_text("Connected")
    expect(row.locator(".avatar")).to_be_visible()
    assert "tiktok=" not in page.url
    assert "open_id=" not in page.url

    # When they ask to disconnect and then keep the account
    row.get_by_role("button", name="Disconnect").click()
    dialog = page.get_by_role("dialog", name="Disconnect Creator Nocomments?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep").click()
    # Then nothing changed
    expect(dialog).to_be_hidden()
    expect(row.locator(".badge")).to_have_text("Connected")

    # When they confirm
    row.get_by_role("button", name="Disconnect").click()
    dialog.get_by_role("button", name="Disconnect").click()
    # Then the account is disconnected and offers to reconnect
    expect(page.get_by_text("Creator Nocomments was disconnected.")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Disconnected")
    expect(row.get_by_role("button", name="Post")).to_have_count(0)

    # When they reconnect through TikTok again
    row.get_by_role("button", name="Reconnect").click()
    ui.consent("creator_nocomments")
    # Then the same account is active again (not a second row)
    expect(page.get_by_text("TikTok account connected.")).to_be_visible()
    expect(ui.account_row("creator_nocomments").locator(".badge")).to_have_text("Connected")
    expect(page.locator("#account-list > li")).to_have_count(1)

    # When they sign out, the token leaves the tab
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_a_rejected_token_sends_the_user_back_to_sign_in(local_stack: Any, new_page):
    page = new_page()
    ui = Console(page, local_stack).open()
    # Given a token the authorizer rejects
    ui.page.get_by_label("API token").fill("not-a-jwt")
    ui.page.get_by_role("button", name="Sign in", exact=True).click()
    # Then the console explains and asks for a token again
    expect(
        page.get_by_text("Your session has expired or the token was rejected. Sign in again.")
    ).to_be_visible()
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_an_empty_token_is_refused_next_to_the_field(local_stack: Any, new_page):
    page = new_page()
    Console(page, local_stack).open()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Paste a token first.")).to_be_visible()
    expect(page.get_by_label("API token")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("API token")).to_be_focused()


def test_accounts_are_per_tenant(local_stack: Any, new_page):
    # Given one tenant connected an account
    first = Console(new_page(), local_stack).sign_in_as(tenant())
    first.connect("creator_public")
    # Then another tenant's console lists nothing
    other = Console(new_page(), local_stack).sign_in_as(tenant())
    expect(other.page.get_by_text("No account connected yet.")).to_be_visible()
    expect(other.page.locator("#account-list > li")).to_have_count(0)


def test_withheld_permissions_are_explained(local_stack: Any, new_page):
    page = new_page()
    ui = Console(page, local_stack).sign_in_as(tenant())
    # Given the user unticks the publishing permission on TikTok's consent page
    page.get_by_role("button", name="Connect a TikTok account").click()
    ui.consent("creator_public", untick=("video.publish",))
    # Then the console says what is missing, and nothing was connected
    expect(page.get_by_role("alert")).to_contain_text(
        "TikTok did not grant every permission publishing needs."
    )
    expect(page.get_by_role("alert")).to_contain_text("video.publish")
    expect(page.locator("#account-list > li")).to_have_count(0)
