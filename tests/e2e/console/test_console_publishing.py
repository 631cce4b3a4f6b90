"""Publishing from the console, in headless chromium on the local stack configured as an audited TikTok app:
a direct post uploaded to S3 with a progress bar only after publish is pressed, followed live to "Published"
with its TikTok link; an inbox draft; a scheduled post cancelled; a post TikTok refuses, with the message
that says what to do; API errors next to the fields; the same at phone width. Writes the screenshots."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.console.conftest import DESKTOP, PHONE
from tests.e2e.console.ui import Console, Recorder, tenant, write_video
from tests.media import make_jpeg, make_mp4

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack")]
TIMEOUT = 30


def _title(kind: str) -> str:
    return f"{kind} {uuid.uuid4().hex[:6]}"


def _watch_progress(page: Page) -> None:
    """Record every value the upload progress bar shows (it may move faster than a poll could see)."""
    page.evaluate(
        """() => {
            window.__progress = [];
            const bar = document.getElementById('upload-progress-bar');
            new MutationObserver(() => window.__progress.push(Number(bar.value)))
              .observe(bar, {attributes: true, attributeFilter: ['value']});
        }"""
    )


def _api_posts(stack: Any, tenant_id: str, open_id: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{stack.gateway_url}/v1/posts",
        params={"open_id": open_id},
        headers={"Authorization": f"Bearer {stack.dev_token(tenant_id, 'console-user')}"},
        timeout=TIMEOUT,
    )
    answer.raise_for_status()
    return list(answer.json()["posts"])


def _arm_fault(stack: Any, **fault: Any) -> None:
    requests.post(f"{stack.emulator_url}/_admin/faults", json=fault, timeout=TIMEOUT).raise_for_status()


def test_publish_direct_inbox_scheduled_and_refused(
    audited_stack: Any, new_page, tmp_path: Path, screenshot_dir
):
    stack = audited_stack
    tenant_id = tenant()
    page = new_page(DESKTOP)
    ui = Console(page, stack).sign_in_as(tenant_id)
    row = ui.connect("creator_public")
    open_id = row.get_attribute("data-open-id")
    ui.open_composer("creator_public")
    expect(page.locator("#audit-banner")).to_be_hidden()  # audited: no sandbox banner
    traffic = Recorder(page, "/v1/uploads", stack.moto_url, "/v1/posts")

    # --- a direct post --------------------------------------------------------------------------------
    # Given a video, a title, "Everyone" and comments allowed (an audited app offers every option)
    privacy = page.get_by_label("Who can see this post")
    assert privacy.locator("option").all_inner_texts() == [
        "Select who can see this post", "Everyone", "Friends", "Only me",
    ]  # fmt: skip
    video = write_video(tmp_path, "direct.mp4", 4)
    ui.choose_video(video)
    direct = _title("Direct post")
    page.get_by_label("Title").fill(f"{direct} #console")
    ui.choose_privacy("Everyone")
    page.get_by_label("Comment", exact=True).check()
    expect(page.locator("#processing-note")).to_contain_text("may take a few minutes")
    expect(page.get_by_text("Nothing posted from this account yet.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "composer-desktop.png"), full_page=True)
    # Nothing has left the browser yet: the upload waits for the user's consent
    assert [u for u in traffic.urls() if not u.startswith("GET ")] == []

    # When they press Publish
    _watch_progress(page)
    ui.publish_button.click()
    # Then the file goes to S3 with a visible progress bar, and the post is created once, idempotently
    expect(page.get_by_text("Sent to TikTok. Processing can take a few minutes")).to_be_visible()
    steps = [u.split("?")[0] for u in traffic.urls() if not u.startswith("GET ")]
    assert steps[0] == f"POST {stack.gateway_url}/v1/uploads"
    assert steps[1].startswith(f"PUT {stack.moto_url}/")
    assert steps[1].endswith("/direct.mp4")
    assert steps[2] == f"POST {stack.gateway_url}/v1/posts"
    post_request = next(r for r in traffic.seen if r.method == "POST" and r.url.endswith("/v1/posts"))
    assert re.fullmatch(r"[0-9a-f-]{36}", post_request.headers["idempotency-key"])
    body = post_request.post_data_json
    assert body["mode"] == "direct"
    assert body["post_info"] == {
        "title": f"{direct} #console", "privacy_level": "PUBLIC_TO_EVERYONE",
        "disable_comment": False, "disable_duet": True, "disable_stitch": True,
        "brand_organic_toggle": False, "brand_content_toggle": False,
    }  # fmt: skip
    progress = page.evaluate("window.__progress")
    assert progress, "the progress bar never moved"
    assert progress == sorted(progress)
    assert progress[-1] == 100

    # And the list follows it live to Published, with the link to the TikTok post
    item = ui.wait_for_status(direct, "Published")
    link = item.get_by_role("link", name=re.compile("View on TikTok"))
    expect(link).to_have_attribute(
        "href", re.compile(r"^https://www\.tiktok\.com/@creator_public/video/\d+$")
    )
    # And TikTok (the emulator) received exactly the bytes of the chosen file
    [published] = [
        p for p in _api_posts(stack, tenant_id, open_id) if p["post_info"].get("title", "").startswith(direct)
    ]
    assert link.get_attribute("href").endswith(f"/video/{published['post_ids'][0]}")
    received = requests.get(
        f"{stack.emulator_url}/_admin/posts/{published['publish_id']}/bytes", timeout=TIMEOUT
    )
    assert received.content == video.read_bytes()
    # The composer was rebuilt from a fresh creator_info, empty, ready for the next post
    expect(privacy).to_have_value("")
    expect(page.get_by_label("Title")).to_have_value("")

    # --- an inbox draft -------------------------------------------------------------------------------
    page.get_by_label("Send to TikTok inbox").check()
    ui.choose_video(write_video(tmp_path, "draft.mp4", 3))
    ui.publish_button.click()
    expect(page.get_by_text("Sent. It will appear in the creator's TikTok inbox.")).to_be_visible()
    inbox_item = page.locator("#post-list > li").filter(has_text="Inbox draft").first
    expect(inbox_item.locator(".badge")).to_have_text("In TikTok inbox", timeout=90_000)

    # --- a post TikTok refuses ------------------------------------------------------------------------
    # Given TikTok answers the next init with its anti-spam refusal (HTTP 200 with an error, as it does)
    _arm_fault(
        stack, endpoint="video_init", mode="error200", code="spam_risk_too_many_posts", message="too many"
    )
    refused = _title("Refused post")
    ui.choose_video(write_video(tmp_path, "refused.mp4", 3))
    page.get_by_label("Title").fill(refused)
    ui.choose_privacy("Only me")
    ui.publish_button.click()
    # Then the post ends Failed with the stored message that tells the user what to do
    failed = ui.wait_for_status(refused, "Failed")
    expect(failed.locator(".post__message")).not_to_be_empty()
    [stored] = [p for p in _api_posts(stack, tenant_id, open_id) if p["post_info"].get("title") == refused]
    expect(failed.locator(".post__message")).to_have_text(stored["error"]["message"])

    # --- a scheduled post, cancelled ------------------------------------------------------------------
    scheduled = _title("Scheduled post")
    ui.choose_video(write_video(tmp_path, "later.mp4", 3))
    page.get_by_label("Title").fill(scheduled)
    ui.choose_privacy("Friends")
    page.get_by_label("Schedule for later").check()
    when = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(days=2)
    page.get_by_label("Publish at (your local time)").fill(when.strftime("%Y-%m-%dT%H:%M"))
    expect(ui.publish_button).to_have_text("Schedule post")
    ui.publish_button.click()
    item = ui.wait_for_status(scheduled, "Scheduled")
    request = next(r for r in traffic.seen if r.method == "POST" and r.post_data_json.get("publish_at"))
    assert request.post_data_json["publish_at"] == int(when.timestamp())
    expect(page.locator("#creator-nickname")).to_be_visible()  # the composer is ready again
    page.screenshot(path=str(screenshot_dir / "posts-desktop.png"), full_page=True)
    item.get_by_role("button", name=re.compile("Cancel")).click()
    dialog = page.get_by_role("dialog", name="Cancel this post?")
    dialog.get_by_role("button", name="Cancel post").click()
    expect(page.get_by_text("The post was cancelled.")).to_be_visible()
    expect(item.locator(".badge")).to_have_text("Cancelled")
    expect(item.get_by_role("button", name=re.compile("Cancel"))).to_have_count(0)


def test_phone_width(audited_stack: Any, new_page, tmp_path: Path, screenshot_dir):
    stack = audited_stack
    page = new_page(PHONE)
    ui = Console(page, stack).sign_in_as(tenant())
    ui.connect("creator_private")  # duet and stitch off in its settings: greyed out on the phone too
    ui.open_composer("creator_private")
    ui.choose_video(write_video(tmp_path, "phone.mp4", 4))
    title = _title("From my phone")
    page.get_by_label("Title").fill(title)
    ui.choose_privacy("Followers")
    page.get_by_role("switch", name="Disclose post content").check()
    page.get_by_label("Your brand", exact=True).check()
    # Nothing is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_text("Nothing posted from this account yet.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "composer-phone.png"), full_page=True)
    ui.publish_button.click()
    ui.wait_for_status(title, "Published")
    expect(
        page.get_by_text("Only followers can see it on TikTok, so TikTok gives no public link.")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#posts").screenshot(path=str(screenshot_dir / "posts-phone.png"))


def test_api_errors_are_shown_where_they_belong(audited_stack: Any, new_page, tmp_path: Path):
    stack = audited_stack
    page = new_page(DESKTOP)
    ui = Console(page, stack).sign_in_as(tenant())

    # 5xx: TikTok fails creator_info when the composer opens; it says so and offers to check again
    _arm_fault(stack, endpoint="creator_info", mode="5xx", status=503, count=5)
    ui.connect("creator_public")
    ui.account_row("creator_public").get_by_role("button", name="Post").click()
    stop = page.locator("#cannot-post")
    expect(stop).to_be_visible()
    requests.delete(f"{stack.emulator_url}/_admin/faults", timeout=TIMEOUT).raise_for_status()
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#creator-nickname")).to_have_text("Creator Public")

    # 422: a video the browser can read but TikTok would refuse (an unknown codec) is refused by the API at
    # POST /v1/posts; the message appears next to the media field
    odd = tmp_path / "odd-codec.mp4"
    odd.write_bytes(make_mp4(3.0, codec="zzzz"))
    ui.choose_video(odd)
    ui.choose_privacy("Only me")
    ui.publish_button.click()
    media_error = page.locator("#c-media-error")
    expect(media_error).to_be_visible()
    expect(media_error).not_to_be_empty()
    expect(page.locator("#composer-error")).to_contain_text("invalid")
    expect(ui.publish_button).to_be_enabled()  # fix and retry

    # 422 per photo: this stack has no verified media domain, which TikTok's photo posts need; each photo's
    # message lands at the media field
    page.get_by_label("Photos", exact=True).check()
    photos = []
    for index in range(2):
        photo = tmp_path / f"photo-{index}.jpg"
        photo.write_bytes(make_jpeg(1080, 1350))
        photos.append(str(photo))
    page.get_by_label("Choose photos").set_input_files(photos)
    expect(page.locator("#media-preview img")).to_have_count(2)
    ui.choose_privacy("Everyone")
    ui.publish_button.click()
    expect(media_error).to_contain_text("verified media domain")
    page.get_by_label("Video", exact=True).check()

    # 409: the account was disconnected elsewhere while the form was open
    token = stack.dev_token(ui_tenant(page), "console-user")
    open_id = ui.account_row("creator_public").get_attribute("data-open-id")
    requests.delete(
        f"{stack.gateway_url}/v1/accounts/{open_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    ).raise_for_status()
    ui.choose_video(write_video(tmp_path, "ok.mp4", 3))
    ui.choose_privacy("Only me")
    ui.publish_button.click()
    expect(page.locator("#composer-error")).to_contain_text(
        "This account is revoked. Connect it again before posting."
    )


def ui_tenant(page: Page) -> str:
    """The tenant of the token the page signed in with (its JWT claim)."""
    claims = page.evaluate(
        "JSON.parse(atob(sessionStorage.getItem('tiktok-publisher.token').split('.')[1]"
        ".replace(/-/g, '+').replace(/_/g, '/')))"
    )
    return str(claims["tenant_id"])
