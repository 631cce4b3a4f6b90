"""Headless Debian chromium (never a downloaded browser) driving the console on the real local stack."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from local_stack import LocalStack

CHROMIUM = "/usr/bin/chromium"
# Creator avatars point at TikTok's CDN: its names resolve nowhere, so the tests stay on loopback (the page
# shows initials instead). Not page.route(): with request interception on, Playwright answers CORS preflights
# itself, which would hide a real CORS problem of the S3 upload.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--host-resolver-rules=MAP *.tiktokcdn.com ~NOTFOUND, MAP *.tiktokcdn-us.com ~NOTFOUND",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
# First calls cold-start the stack's functions (seconds); assertions wait for the page, never sleep.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per test module."""
    assert shutil.which(CHROMIUM), "Debian's chromium is missing: `make chromium` (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """new_page(viewport=DESKTOP) -> a page in a fresh context (its own sessionStorage). Page errors fail."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(viewport: dict[str, int] | None = None) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="en-US", timezone_id="UTC")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """test-artifacts/screenshots/ (git-ignored); docs/screenshots/ holds a reviewed copy."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def audited_stack() -> Iterator[LocalStack]:
    """The local stack configured as a TikTok-audited app (AppAudited=true, and the emulator told the same),
    so public posts are allowed and TikTok returns public post ids. Its own emulator: the daily post caps
    the publishing tests spend are not shared with other modules. No media pull (MediaPullMode=none, the
    template's default): its tests show the API refusing photos without a verified media domain (the
    shared stack, as `make run` starts it, pulls from moto: test_console_photos.py)."""
    quiet = os.environ.get("LOCAL_STACK_VERBOSE", "") in ("", "0")
    overrides = {"AppAudited": "true", "MediaPullMode": "none"}
    with LocalStack(quiet=quiet, schedule_interval=0, parameter_overrides=overrides) as stack:
        answer = requests.post(f"{stack.emulator_url}/_admin/config", json={"audited": True}, timeout=10)
        answer.raise_for_status()
        yield stack
