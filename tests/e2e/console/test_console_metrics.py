"""After the post, in the console (headless Debian chromium on the local stack with MetricsEnabled and an
audited app): each account's stats, a published post's counts read from TikTok on request with its video
id kept as a string, a failed post retried, a scheduled post rescheduled. Writes the screenshots."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from local_stack import LocalStack
from tests.e2e.console.conftest import DESKTOP, PHONE
from tests.e2e.console.ui import PUBLISH_TIMEOUT_MS, Console, tenant
from tests.media import make_mp4

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("stack-metrics")]
TIMEOUT = 30
TERMINAL = {"published", "inbox", "failed", "cancelled", "unconfirmed"}


@pytest.fixture(scope="module", autouse=True)
def _quick_processing(metrics_stack: LocalStack) -> None:
    """Processing takes TikTok minutes; a fraction of a second is enough to go through every state."""
    requests.post(
        f"{metrics_stack.emulator_url}/_admin/config", json={"processing_delay": 0.2}, timeout=TIMEOUT
    ).raise_for_status()


class Api:
    """The SaaS's backend calling the API for the same tenant (posts made outside the console)."""

    def __init__(self, stack: LocalStack, tenant_id: str) -> None:
        self.base = stack.gateway_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.dev_token(tenant_id, 'console-user')}"

    def video_post(self, open_id: str, title: str, **extra: Any) -> dict[str, Any]:
        data = make_mp4(duration_s=3.0)
        ticket = self.http.post(
            f"{self.base}/v1/uploads",
            json={"open_id": open_id, "filename": "v.mp4", "content_type": "video/mp4", "size": len(data)},
            timeout=TIMEOUT,
        ).json()
        requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=TIMEOUT).raise_for_status()
        answer = self.http.post(
            f"{self.base}/v1/posts",
            json={
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "video", "upload_id": ticket["upload_id"]},
                "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": title},
                **extra,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def post(self, post_id: str) -> dict[str, Any]:
        return dict(self.http.get(f"{self.base}/v1/posts/{post_id}", timeout=TIMEOUT).json())

    def wait_terminal(self, post_id: str, *, with_ids: bool = False) -> dict[str, Any]:
        """The post once final (and, `with_ids`, once TikTok's review gave it its public id: in the status
        answer or the publicly_available webhook, whichever comes first)."""
        deadline = time.monotonic() + 90
        while True:
            post = self.post(post_id)
            if post["status"] in TERMINAL and (
                post["post_ids"] or not with_ids or post["status"] != "published"
            ):
                return post
            assert time.monotonic() < deadline, post
            time.sleep(0.3)


def _emulator(stack: LocalStack, path: str, body: dict[str, Any]) -> None:
    requests.post(f"{stack.emulator_url}{path}", json=body, timeout=TIMEOUT).raise_for_status()


def test_stats_counts_retry_and_reschedule_in_the_console(
    metrics_stack: LocalStack, new_page, screenshot_dir
):
    stack = metrics_stack
    tenant_id = tenant()
    backend = Api(stack, tenant_id)
    page = new_page(DESKTOP)
    ui = Console(page, stack).sign_in_as(tenant_id)

    # --- the account's stats, granted at connect --------------------------------------------------------
    row = ui.connect("creator_public")
    open_id = str(row.get_attribute("data-open-id"))
    stats = row.locator(".account__stats")
    expect(stats).to_have_attribute("data-stats", "shown")
    expect(stats).to_contain_text(
        re.compile(r"[\d,]+ followers · [\d,]+ following · [\d,]+ likes? · \d+ videos?")
    )

    # --- a published public post: its counts on request -------------------------------------------------
    title = f"Metrics {uuid.uuid4().hex[:6]}"
    created = backend.video_post(open_id, title)
    published = backend.wait_terminal(created["post_id"], with_ids=True)
    assert published["status"] == "published", published
    (video_id,) = published["post_ids"]
    assert re.fullmatch(r"\d{19}", video_id)
    # An hour and a half at TikTok (inside the access token's life): the video has been watched a while
    _emulator(stack, "/_admin/clock/advance", {"seconds": 5400})
    refresh = page.locator("#refresh-posts")  # posts made by the SaaS's backend, not in this console
    refresh.click()
    item = ui.wait_for_status(title, "Published")
    link = item.get_by_role("link", name=re.compile("View on TikTok"))
    expect(link).to_have_attribute(
        "href", re.compile(rf"/video/{video_id}$")
    )  # the exact id, not a rounded one
    item.get_by_role("button", name="Show stats").click()
    counts = item.locator(".metrics__counts")
    expect(counts).to_have_text(
        re.compile(r"^[\d,]+ views? · [\d,]+ likes? · [\d,]+ comments? · [\d,]+ shares?$")
    )
    shown = backend.post(created["post_id"])["metrics"]
    views = f"{shown['view_count']:,} view"
    expect(counts).to_contain_text(views)
    assert shown["videos"][0]["video_id"] == video_id
    expect(item.get_by_text(re.compile("^Stats as of"))).to_be_visible()
    # Asked again within the interval: the stored reading, no new TikTok call
    item.get_by_role("button", name="Update stats").click()
    expect(item.locator(".metrics__counts")).to_contain_text(views)

    # --- a post TikTok refused (its daily limit): the reason, and Retry ---------------------------------
    _emulator(
        stack,
        "/_admin/faults",
        {"endpoint": "video_init", "mode": "error200", "code": "spam_risk_too_many_posts", "count": 1},
    )
    refused_title = f"Refused {uuid.uuid4().hex[:6]}"
    refused = backend.video_post(open_id, refused_title)
    assert backend.wait_terminal(refused["post_id"])["status"] == "failed"
    refresh.click()
    failed = ui.wait_for_status(refused_title, "Failed")
    expect(failed.locator(".post__retry")).to_contain_text("Retry once the limit has passed")

    # --- a scheduled post: reschedule it ----------------------------------------------------------------
    later_title = f"Later {uuid.uuid4().hex[:6]}"
    scheduled = backend.video_post(open_id, later_title, publish_at=int(time.time()) + 3600)
    refresh.click()
    waiting = ui.wait_for_status(later_title, "Scheduled")
    page.screenshot(path=str(screenshot_dir / "metrics-desktop.png"), full_page=True)

    waiting.get_by_role("button", name=re.compile("^Reschedule")).click()
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    waiting.get_by_label("New time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    waiting.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("^Rescheduled for"))).to_be_visible()
    moved = backend.post(scheduled["post_id"])
    assert abs(moved["publish_at"] - int(when.replace(second=0).timestamp())) < 60
    assert moved["status"] == "scheduled"

    failed.get_by_role("button", name=re.compile("^Retry")).click()
    expect(page.get_by_text("A new attempt has started.")).to_be_visible()
    item = ui.wait_for_status(refused_title, "Published")
    expect(item).to_contain_text("Attempt 2")
    retried = backend.post(refused["post_id"])
    assert [a["status"] for a in retried["attempts"]] == ["failed", "published"]


def test_an_account_connected_without_the_stats_scope_is_told_to_reconnect(
    metrics_stack: LocalStack, new_page, screenshot_dir
):
    page = new_page(PHONE)
    ui = Console(page, metrics_stack).sign_in_as(tenant())
    page.get_by_role("button", name="Connect a TikTok account").click()
    ui.consent("creator_nocomments", untick=("user.info.stats", "video.list"))
    expect(page.get_by_text("TikTok account connected.")).to_be_visible()
    row = ui.account_row("creator_nocomments")
    stats = row.locator(".account__stats")
    expect(stats).to_have_attribute("data-stats", "reconnect_to_grant")
    expect(stats).to_contain_text("Stats need a permission this connection did not grant.")
    page.locator("#accounts").screenshot(path=str(screenshot_dir / "accounts-reconnect-phone.png"))
    row.get_by_role("button", name="Reconnect to show stats").click()
    ui.consent("creator_nocomments")
    expect(page.get_by_text("TikTok account connected.")).to_be_visible()
    expect(ui.account_row("creator_nocomments").locator(".account__stats")).to_have_attribute(
        "data-stats", "shown", timeout=PUBLISH_TIMEOUT_MS
    )
