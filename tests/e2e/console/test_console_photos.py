"""Photo posts from the console on the stack `make run` starts, with no configuration (issue 12): a photo
draft sent to the creator's inbox without a title, then a direct photo post of a private creator, both
published through the emulator, which pulls the photos from the stack's moto (its verified media prefix)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.console.conftest import DESKTOP
from tests.e2e.console.ui import Console, tenant
from tests.media import make_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack")]
TIMEOUT = 30


def _posts(stack: Any, tenant_id: str, open_id: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{stack.gateway_url}/v1/posts",
        params={"open_id": open_id},
        headers={"Authorization": f"Bearer {stack.dev_token(tenant_id, 'console-user')}"},
        timeout=TIMEOUT,
    )
    answer.raise_for_status()
    return list(answer.json()["posts"])


def _received(stack: Any, publish_id: str, index: int) -> bytes:
    answer = requests.get(
        f"{stack.emulator_url}/_admin/posts/{publish_id}/bytes", params={"index": index}, timeout=TIMEOUT
    )
    answer.raise_for_status()
    return answer.content


def test_photo_draft_and_direct_photo_post_work_out_of_the_box(local_stack: Any, new_page, tmp_path: Path):
    stack = local_stack
    tenant_id = tenant()
    page = new_page(DESKTOP)
    ui = Console(page, stack).sign_in_as(tenant_id)
    open_id = ui.connect("creator_private").get_attribute("data-open-id")
    assert open_id
    photos = []
    for index, (width, height) in enumerate([(1080, 1350), (1080, 1080)]):
        path = tmp_path / f"photo-{index}.jpg"
        path.write_bytes(make_jpeg(width, height))
        photos.append(path)

    # --- a photo draft, no title: TikTok refuses an empty post_info, so the product must not send one -------
    ui.open_composer("creator_private")
    page.get_by_label("Send to TikTok inbox").check()
    page.get_by_label("Photos", exact=True).check()
    page.get_by_label("Choose photos").set_input_files([str(p) for p in photos])
    expect(page.locator("#media-preview img")).to_have_count(2)
    ui.publish_button.click()
    expect(page.get_by_text("Sent. It will appear in the creator's TikTok inbox.")).to_be_visible()
    draft_item = page.locator("#post-list > li").filter(has_text="Inbox draft").first
    expect(draft_item.locator(".badge")).to_have_text("In TikTok inbox", timeout=90_000)
    [draft] = [p for p in _posts(stack, tenant_id, open_id) if p["mode"] == "inbox"]
    assert draft["transfer"] == "pull"
    assert [_received(stack, draft["publish_id"], i) for i in range(2)] == [p.read_bytes() for p in photos]
    # The creator discards the draft in the TikTok app (TikTok caps the drafts an account holds)
    requests.post(
        f"{stack.emulator_url}/_admin/drafts/finish",
        json={"publish_id": draft["publish_id"], "outcome": "discarded"},
        timeout=TIMEOUT,
    ).raise_for_status()

    # --- a direct photo post of a private creator, "Only me" (this unaudited app's only choice) -------------
    title = f"Photos {uuid.uuid4().hex[:6]}"
    page.get_by_label("Post directly").check()
    page.get_by_label("Photos", exact=True).check()
    page.get_by_label("Choose photos").set_input_files([str(p) for p in photos])
    expect(page.locator("#media-preview img")).to_have_count(2)
    page.get_by_label("Title").fill(title)
    ui.choose_privacy("Only me")
    ui.publish_button.click()
    expect(page.get_by_text("Sent to TikTok.")).to_be_visible()
    ui.wait_for_status(title, "Published")
    [direct] = [p for p in _posts(stack, tenant_id, open_id) if p["post_info"].get("title") == title]
    assert (direct["mode"], direct["media_type"], direct["transfer"]) == ("direct", "photo", "pull")
    assert [_received(stack, direct["publish_id"], i) for i in range(2)] == [p.read_bytes() for p in photos]
