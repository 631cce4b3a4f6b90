"""Driving the console the way a person does: labels, roles and visible text (no CSS-internal selectors where
a name exists), on the real local stack."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Request, expect

from tests.media import make_mp4

# TikTok's words (TIKTOK-API.md §8): the console must show exactly these.
DISCLOSURE_REQUIRED = "You need to indicate if your content promotes yourself, a third party, or both."
MUSIC_DECLARATION = "By posting, you agree to TikTok's Music Usage Confirmation"
BRANDED_DECLARATION = "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation"
BRANDED_NOT_PRIVATE = "Branded content visibility cannot be set to private."
PROMOTIONAL_LABEL = "Your video will be labeled as 'Promotional content'"
PAID_PARTNERSHIP_LABEL = "Your video will be labeled as 'Paid partnership'"
PUBLISH_TIMEOUT_MS = 90_000


def tenant() -> str:
    """A fresh tenant per test: its accounts and posts are its own on the shared stack."""
    return f"console-{uuid.uuid4().hex[:10]}"


def write_video(directory: Path, name: str, seconds: float) -> Path:
    """A structurally valid MP4 of that duration (tests/media.py)."""
    path = directory / name
    path.write_bytes(make_mp4(seconds, width=720, height=1280, fps=30))
    return path


class Recorder:
    """Records the page's requests whose URL contains any of `parts`."""

    def __init__(self, page: Page, *parts: str) -> None:
        self.parts = parts
        self.seen: list[Request] = []
        page.on("request", self._on_request)

    def _on_request(self, request: Request) -> None:
        if any(part in request.url for part in self.parts):
            self.seen.append(request)

    def urls(self) -> list[str]:
        return [f"{r.method} {r.url}" for r in self.seen]


def display_name(account: str) -> str:
    """The emulator's display name of a test account (local/tiktok_emulator/config.py TestAccount)."""
    return account.replace("_", " ").title()


class Console:
    """The console page of one browser context."""

    def __init__(self, page: Page, stack: Any) -> None:
        self.page = page
        self.stack = stack
        self.base = f"{stack.gateway_url}/"

    # -- sign-in --------------------------------------------------------------------------------------------
    def open(self) -> Console:
        self.page.goto(self.base)
        return self

    def sign_in_with_token(self, token: str) -> Console:
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        expect(self.page.get_by_role("heading", name="TikTok accounts")).to_be_visible()
        return self

    def sign_in_as(self, tenant_id: str) -> Console:
        return self.open().sign_in_with_token(self.stack.dev_token(tenant_id, "console-user"))

    # -- accounts -------------------------------------------------------------------------------------------
    def account_row(self, username: str) -> Locator:
        # By the display name the list shows (the emulator's "creator_public" is "Creator Public"): the
        # @username is only there when user.info.profile was granted.
        return self.page.locator("#account-list > li").filter(has_text=display_name(username))

    def consent(self, username: str, *, decision: str = "Authorize", untick: tuple[str, ...] = ()) -> None:
        """On the emulator's consent page (TikTok's, in production): pick the account, maybe withhold some
        permissions, then decide."""
        self.page.wait_for_url(f"{self.stack.tiktok_auth_base}/v2/auth/authorize/**")
        self.page.locator(f"#account-{username}").check()
        for scope in untick:
            self.page.locator(f"#scope-{scope.replace('.', '-')}").uncheck()
        self.page.get_by_role("button", name=decision).click()
        self.page.wait_for_url(f"{self.base}**")

    def connect(self, username: str) -> Locator:
        self.page.get_by_role("button", name="Connect a TikTok account").click()
        self.consent(username)
        expect(self.page.get_by_text("TikTok account connected.")).to_be_visible()
        row = self.account_row(username)
        expect(row).to_be_visible()
        return row

    def open_composer(self, username: str) -> Locator:
        row = self.account_row(username)
        row.get_by_role("button", name="Post").click()
        composer = self.page.locator("#composer")
        expect(composer.get_by_text("Posting to TikTok as")).to_be_visible()
        return composer

    # -- composer -------------------------------------------------------------------------------------------
    @property
    def publish_button(self) -> Locator:
        return self.page.locator("#publish")

    def choose_video(self, path: Path) -> None:
        self.page.get_by_label("Choose a video").set_input_files(str(path))
        expect(self.page.locator("#media-preview video")).to_be_visible()
        expect(self.page.locator("#video-meta")).to_contain_text(":")  # the duration was read

    def choose_privacy(self, label: str) -> None:
        self.page.get_by_label("Who can see this post").select_option(label=label)

    # -- posts ----------------------------------------------------------------------------------------------
    def post_item(self, title: str) -> Locator:
        return self.page.locator("#post-list > li").filter(has_text=title)

    def wait_for_status(self, title: str, label: str) -> Locator:
        item = self.post_item(title)
        expect(item.locator(".badge")).to_have_text(label, timeout=PUBLISH_TIMEOUT_MS)
        return item
