"""The console's webhooks page, in headless chromium on the local stack: add an endpoint (its secret shown
once), see a real delivery in its log (status code, latency, attempts), replay it, rotate the secret, disable
and enable, delete; an unsafe URL refused with the API's words. Writes the webhooks screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.e2e.console.conftest import PHONE
from tests.e2e.console.ui import Console, tenant
from tests.e2e.webhooks.test_webhooks_e2e import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack")]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    handle = Receiver()
    yield handle
    handle.stop()


def test_webhooks_page_endpoints_deliveries_replay_and_rotation(
    local_stack: Any, new_page, receiver: Receiver, screenshot_dir: Path
) -> None:
    page = new_page()
    ui = Console(page, local_stack).sign_in_as(tenant())
    card = page.locator("#webhooks")
    expect(card.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(card.get_by_text("No endpoint yet.")).to_be_visible()

    # When an unsafe URL is entered, the API's refusal is shown next to the field and nothing is saved
    card.get_by_role("button", name="Add endpoint").click()
    card.get_by_label("Endpoint URL").fill("http://169.254.169.254/latest/meta-data/")
    card.get_by_role("button", name="Save endpoint").click()
    expect(card.locator("#hook-url-error")).to_contain_text("not allowed")
    expect(card.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")

    # When the user adds their app's endpoint for connections and published posts
    card.get_by_label("Endpoint URL").fill(receiver.url)
    card.get_by_label("Account connected").check()
    card.get_by_label("Description (optional)").fill("Our CRM")
    card.get_by_role("button", name="Save endpoint").click()
    # Then the secret is shown once, and the endpoint is listed as enabled
    secret_field = card.get_by_role("textbox", name="Signing secret")
    expect(secret_field).to_have_value(re.compile(r"^whsec_"))
    secret = secret_field.input_value()
    row = card.locator(".hook").filter(has_text="Our CRM")
    expect(row.locator(".badge")).to_have_text("Enabled")
    card.get_by_role("button", name="I stored it").click()
    expect(secret_field).to_have_count(0)

    # When an account is connected, the app gets a signed webhook that verifies with the secret shown
    ui.connect("creator_public")
    headers, body = receiver.wait_for(1)[0]
    assert Webhook(secret).verify(body, headers)["type"] == "account.connected"

    # And the endpoint's deliveries show it, with the answer's status code and latency
    row.get_by_role("button", name="Deliveries").click()
    delivery = card.locator(".hook-table tbody tr").first
    expect(delivery).to_contain_text("Account connected")
    expect(delivery.locator(".badge")).to_have_text("Delivered")
    expect(delivery).to_contain_text(re.compile(r"HTTP 204 in \d+ ms"))

    # When the user replays it, the app gets it again
    delivery.get_by_role("button", name=re.compile("^Replay")).click()
    expect(page.get_by_text("Sent again: it is queued for delivery.")).to_be_visible()
    again_headers, again_body = receiver.wait_for(2)[1]
    assert again_headers["webhook-id"] == headers["webhook-id"]
    assert Webhook(secret).verify(again_body, again_headers)["type"] == "account.connected"
    # (the log refreshes itself while a message is on its way)
    expect(delivery.locator("summary")).to_have_text("2 attempts")
    expect(delivery.locator(".badge")).to_have_text("Delivered")
    delivery.locator("summary").click()
    expect(delivery.locator(".hook-attempts li")).to_have_count(2)
    expect(delivery.locator(".hook-attempts li").nth(1)).to_contain_text("(replay)")
    card.screenshot(path=str(screenshot_dir / "webhooks-desktop.png"))

    # When the secret is rotated (after confirming), a new one is shown once
    row.get_by_role("button", name="Rotate secret").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate").click()
    expect(secret_field).to_have_value(re.compile(r"^whsec_"))
    assert secret_field.input_value() != secret

    # When the endpoint is disabled, replay is no longer offered; enabled again, it is
    row.get_by_role("button", name="Disable").click()
    expect(row.locator(".badge")).to_have_text("Disabled")
    expect(delivery.get_by_role("button", name=re.compile("^Replay"))).to_be_disabled()
    row.get_by_role("button", name="Enable").click()
    expect(row.locator(".badge")).to_have_text("Enabled")
    expect(delivery.get_by_role("button", name=re.compile("^Replay"))).to_be_enabled()

    # When it is deleted (after confirming), it is gone
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(card.get_by_text("No endpoint yet.")).to_be_visible()


def test_webhooks_page_at_phone_width(
    local_stack: Any, new_page, receiver: Receiver, screenshot_dir: Path
) -> None:
    page = new_page(viewport=PHONE)
    Console(page, local_stack).sign_in_as(tenant())
    card = page.locator("#webhooks")
    card.get_by_role("button", name="Add endpoint").click()
    card.get_by_label("Endpoint URL").fill(receiver.url)
    card.get_by_role("button", name="Save endpoint").click()
    expect(card.get_by_role("textbox", name="Signing secret")).to_have_value(re.compile(r"^whsec_"))
    # Nothing overflows the screen sideways
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    card.screenshot(path=str(screenshot_dir / "webhooks-phone.png"))
