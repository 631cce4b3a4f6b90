"""TikTok's required posting UX (TIKTOK-API.md §8), one assertion per rule, in headless chromium on the local
stack (an unaudited app, as `make run` starts it). Nothing here publishes: each test also proves that no
byte is uploaded before the user presses publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.console.ui import (
    BRANDED_DECLARATION,
    BRANDED_NOT_PRIVATE,
    DISCLOSURE_REQUIRED,
    MUSIC_DECLARATION,
    PAID_PARTNERSHIP_LABEL,
    PROMOTIONAL_LABEL,
    Console,
    Recorder,
    tenant,
    write_video,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack")]
GREY = "rgb(156, 163, 175)"


@pytest.fixture
def composer(local_stack: Any, new_page):
    """A tenant with creator_private connected (duet and stitch off in its settings, 300 s max) and its form
    open; every request to the uploads route or to S3 is recorded."""
    page = new_page()
    ui = Console(page, local_stack).sign_in_as(tenant())
    uploads = Recorder(page, "/v1/uploads", local_stack.moto_url, "/v1/posts", "/_admin/")
    ui.connect("creator_private")
    ui.open_composer("creator_private")
    yield ui, uploads
    # Whatever the test did, nothing left the browser without the user pressing publish.
    assert [u for u in uploads.urls() if "GET " not in u] == []


def test_form_is_built_from_fresh_creator_info(composer):
    ui, _ = composer
    page = ui.page
    # §8.1: the creator's nickname, from creator_info queried when the form opened
    expect(page.locator("#creator-nickname")).to_have_text("Creator Private")
    # and the creator's own limit
    expect(page.locator("#c-media-hint")).to_contain_text("Creator Private can post videos up to 5:00 long.")


def test_privacy_has_no_default_and_blocks_publishing(composer, tmp_path: Path):
    ui, _ = composer
    page = ui.page
    privacy = page.get_by_label("Who can see this post")
    # §8.2: nothing preselected; the placeholder cannot be chosen
    expect(privacy).to_have_value("")
    placeholder = privacy.locator("option").first
    assert placeholder.evaluate("o => o.selected && o.disabled && o.value === ''")
    # The options are the creator's (private account), and an unaudited app can only use Only me, saying why
    labels = privacy.locator("option").all_inner_texts()
    assert labels == [
        "Select who can see this post",
        "Followers (unavailable)",
        "Friends (unavailable)",
        "Only me",
    ]
    assert "hasn't been audited" in privacy.locator("option", has_text="Followers").get_attribute("title")
    expect(page.locator("#c-audit-notice")).to_contain_text("This app hasn't been audited by TikTok yet.")
    # Publishing is blocked until a privacy is chosen, even with a valid video
    ui.choose_video(write_video(tmp_path, "ok.mp4", 4))
    expect(ui.publish_button).to_be_disabled()
    expect(page.locator("#publish-blockers")).to_contain_text("Choose who can see this post.")
    ui.choose_privacy("Only me")
    expect(ui.publish_button).to_be_enabled()


def test_interactions_start_off_and_creator_disabled_ones_are_greyed(composer):
    ui, _ = composer
    page = ui.page
    comment, duet, stitch = (page.get_by_label(name, exact=True) for name in ("Comment", "Duet", "Stitch"))
    # §8.2: none is on by default
    for box in (comment, duet, stitch):
        expect(box).not_to_be_checked()
    # The creator turned Duet and Stitch off: greyed out, disabled, with the reason; Comment is usable
    expect(comment).to_be_enabled()
    for box, name in ((duet, "Duet"), (stitch, "Stitch")):
        expect(box).to_be_disabled()
        row = page.locator(f"[data-toggle='{name.lower()}']")
        expect(row.get_by_text(f"{name} is turned off in this creator's TikTok settings.")).to_be_visible()
        assert row.locator("label").evaluate("l => getComputedStyle(l).color") == GREY
    comment.check()
    expect(comment).to_be_checked()
    # Photos: Comment only (no Duet or Stitch for photo posts)
    page.get_by_label("Photos", exact=True).check()
    expect(comment).to_be_visible()
    expect(duet).to_be_hidden()
    expect(stitch).to_be_hidden()
    expect(page.locator("#c-title-count")).to_have_text("0 / 90")


def test_commercial_disclosure_rules(composer, tmp_path: Path):
    ui, _ = composer
    page = ui.page
    disclose = page.get_by_role("switch", name="Disclose post content")
    your_brand = page.get_by_label("Your brand", exact=True)
    branded = page.get_by_label("Branded content", exact=True)
    declaration = page.locator("#declaration")
    label = page.locator("#disclosure-label")
    only_me = page.get_by_label("Who can see this post").locator("option", has_text="Only me")

    # §8.3: off by default, the two boxes hidden; §8.4: the music declaration above the button
    expect(disclose).not_to_be_checked()
    expect(your_brand).to_be_hidden()
    expect(declaration).to_have_text(MUSIC_DECLARATION)
    expect(declaration.get_by_role("link", name="Music Usage Confirmation")).to_have_attribute(
        "href", "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
    )
    ui.choose_video(write_video(tmp_path, "ok.mp4", 4))

    # When disclosure is on, the boxes appear unticked and publishing is blocked with TikTok's sentence
    disclose.check()
    expect(your_brand).to_be_visible()
    expect(your_brand).not_to_be_checked()
    expect(branded).not_to_be_checked()
    expect(page.locator("#c-disclosure-error")).to_have_text(DISCLOSURE_REQUIRED)
    expect(ui.publish_button).to_be_disabled()

    # Branded content: "Paid partnership", "Only me" greyed with TikTok's hover text, the declaration grows
    branded.check()
    expect(label).to_have_text(PAID_PARTNERSHIP_LABEL)
    expect(only_me).to_be_disabled()
    expect(only_me).to_have_attribute("title", BRANDED_NOT_PRIVATE)
    expect(page.locator("#c-privacy-hint")).to_contain_text(BRANDED_NOT_PRIVATE)
    expect(declaration).to_have_text(BRANDED_DECLARATION)
    expect(declaration.get_by_role("link", name="Branded Content Policy")).to_have_attribute(
        "href", "https://www.tiktok.com/legal/page/global/bc-policy/en"
    )
    expect(page.locator("#c-disclosure-error")).to_be_hidden()
    # (here branded content leaves this unaudited app no privacy it may use, so publishing stays blocked)
    expect(ui.publish_button).to_be_disabled()

    # Both boxes: still "Paid partnership"
    your_brand.check()
    expect(label).to_have_text(PAID_PARTNERSHIP_LABEL)
    # Your brand alone: "Promotional content", Only me back, music declaration back
    branded.uncheck()
    expect(label).to_have_text(PROMOTIONAL_LABEL)
    expect(only_me).to_be_enabled()
    expect(declaration).to_have_text(MUSIC_DECLARATION)

    # With Only me chosen, Branded content cannot be ticked (and says why)
    ui.choose_privacy("Only me")
    expect(branded).to_be_disabled()
    expect(page.locator("#c-branded-why")).to_have_text(BRANDED_NOT_PRIVATE)
    expect(ui.publish_button).to_be_enabled()

    # Unticking the last box blocks publishing again with the exact sentence
    your_brand.uncheck()
    expect(page.locator("#c-disclosure-error")).to_have_text(DISCLOSURE_REQUIRED)
    expect(ui.publish_button).to_be_disabled()
    # Turning disclosure off unblocks it
    disclose.uncheck()
    expect(ui.publish_button).to_be_enabled()


def test_video_longer_than_the_creators_limit_is_refused_before_any_upload(composer, tmp_path: Path):
    ui, recorded = composer
    page = ui.page
    ui.choose_privacy("Only me")
    # Given a video one second over creator_private's 300 s
    page.get_by_label("Choose a video").set_input_files(str(write_video(tmp_path, "long.mp4", 301)))
    # Then the form says so at the field and publishing is blocked
    error = page.locator("#c-media-error")
    expect(error).to_have_text(
        "This video is 5:01 long. Creator Private can post videos up to 5:00 long on TikTok. "
        "Choose a shorter video."
    )
    expect(ui.publish_button).to_be_disabled()
    # and even a forced submit (Enter in a field, a script) uploads nothing
    page.locator("#post-form").evaluate("f => f.requestSubmit()")
    page.get_by_label("Title").press("Enter")
    expect(page.locator("#upload-progress")).to_be_hidden()
    assert recorded.urls() == [u for u in recorded.urls() if u.startswith("GET ")]
    # A video within the limit is accepted (still nothing uploaded until publish is pressed)
    ui.choose_video(write_video(tmp_path, "ok.mp4", 299))
    expect(error).to_be_hidden()
    expect(ui.publish_button).to_be_enabled()


def test_inbox_mode_leaves_the_post_settings_to_the_tiktok_app(composer):
    ui, _ = composer
    page = ui.page
    page.get_by_label("Send to TikTok inbox").check()
    expect(page.get_by_label("Who can see this post")).to_be_hidden()
    expect(page.get_by_role("switch", name="Disclose post content")).to_be_hidden()
    expect(page.locator("#inbox-note")).to_be_visible()
    expect(ui.publish_button).to_have_text("Send to inbox")


def test_form_controls_have_accessible_names_and_take_the_keyboard(composer):
    ui, _ = composer
    page = ui.page
    unnamed = page.locator("#post-form").evaluate(
        """f => [...f.querySelectorAll('input, select, textarea, button')]
              .filter(el => !el.closest('[hidden]'))
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
              .map(el => el.outerHTML)"""
    )
    assert unnamed == []
    # Keyboard: the file chooser and the privacy select are reachable with Tab, with a visible focus ring
    page.get_by_label("Send to TikTok inbox").focus()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Post directly")).to_be_focused()
    page.get_by_label("Who can see this post").focus()
    outline = page.get_by_label("Who can see this post").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"


def test_creator_who_cannot_post_now_is_stopped(local_stack: Any, new_page):
    page = new_page()
    ui = Console(page, local_stack).sign_in_as(tenant())
    # Given a creator TikTok has banned from posting (creator_info says so)
    ui.connect("creator_banned")
    ui.account_row("creator_banned").get_by_role("button", name="Post").click()
    # Then the composer stops and says so; there is no form to fill
    stop = page.locator("#cannot-post")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("cannot post right now")
    expect(page.locator("#post-form")).to_have_count(0)
