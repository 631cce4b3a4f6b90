"""The flow TikTok's app reviewers ask to see, driven in the console the way a person would, with a caption
per step, a pointer that moves to what is clicked, and a screenshot at each step.

sign in → connect on TikTok's consent page → the composer (creator nickname, privacy with no default,
disabled interactions, commercial-content disclosure, the declaration) → publish → the status reaching
"Published" → disconnect.

Waits are on the page (Playwright's auto-waiting and `expect`); `hold` only paces the video so a reviewer
can read each step.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .overlay import OVERLAY_SCRIPT

PUBLISH_TIMEOUT_MS = 120_000


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the flow as it appears in the video and the checklist."""

    number: int
    key: str
    title: str
    caption: str
    started: float  # seconds from the start of the recording
    screenshot: str


@dataclasses.dataclass
class Target:
    """Where the flow runs: the console's URL, how to sign in, and TikTok's consent page."""

    console_url: str
    consent_url_prefix: str
    account: str  # the TikTok test user picked on the consent page
    privacy_label: str  # the privacy option chosen in the composer ("Only me" for an unaudited app)
    video: Path


class Presenter:
    """Captions, pointer and pacing on the recorded page. `pace` scales every hold (0 = no pauses)."""

    def __init__(self, page: Page, *, pace: float) -> None:
        self.page = page
        self.pace = pace
        self._caption = ("", "")

    def install(self) -> None:
        """Run the overlay on every document of this page's context (before the page's own scripts)."""
        self.page.context.add_init_script(OVERLAY_SCRIPT)

    def caption(self, step: str, text: str) -> None:
        self._caption = (step, text)
        self.refresh()

    def refresh(self) -> None:
        """Draw the current caption again (a new document starts without it)."""
        self.page.wait_for_function("() => window.__reviewKit !== undefined && document.body !== null")
        self.page.evaluate("([s, t]) => window.__reviewKit.caption(s, t)", list(self._caption))

    def hold(self, seconds: float) -> None:
        """Keep the page on screen for the viewer (pacing, not synchronisation)."""
        if self.pace > 0:
            self.page.wait_for_timeout(seconds * self.pace * 1000)

    def point(self, target: Locator, *, hold: float = 0.6) -> None:
        """Move the pointer to the middle of `target` (scrolled into view)."""
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        if box is not None:
            self.page.evaluate(
                "([x, y]) => window.__reviewKit.point(x, y)",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
        self.hold(hold)

    def click(self, target: Locator, *, hold: float = 0.6) -> None:
        self.point(target, hold=hold)
        self.page.evaluate("() => window.__reviewKit.press()")
        target.click()

    def type(self, target: Locator, text: str) -> None:
        self.point(target, hold=0.3)
        target.click()
        target.press_sequentially(text, delay=int(45 * self.pace))


class ReviewerFlow:
    """Runs the flow on `page`; `steps` records what the video shows and when."""

    def __init__(
        self,
        page: Page,
        target: Target,
        *,
        screenshots: Path,
        pace: float,
        sign_in: Callable[[Page], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.page = page
        self.target = target
        self.screenshots = screenshots
        self.show = Presenter(page, pace=pace)
        self.sign_in_action = sign_in
        self.clock = clock
        self.origin = clock()
        self.steps: list[Step] = []
        # (start, end) wall-clock windows when the overlay was hidden for a screenshot: not for the video.
        self.offscreen: list[tuple[float, float]] = []

    # -- bookkeeping -------------------------------------------------------------------------------------
    def begin(self, origin: float) -> None:
        """Step times are counted from `origin` (when the recording started)."""
        self.origin = origin

    def _step(self, key: str, title: str, caption: str) -> Step:
        number = len(self.steps) + 1
        step = Step(
            number, key, title, caption, round(self.clock() - self.origin, 2), f"{number:02d}-{key}.png"
        )
        self.steps.append(step)
        self.show.caption(f"{number}. {title}", caption)
        return step

    def _shot(self, step: Step, *, full_page: bool = False) -> None:
        """A screenshot without the recording's overlay."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        hidden_at = self.clock()
        self.page.evaluate("() => window.__reviewKit.show(false)")
        try:
            self.page.screenshot(path=str(self.screenshots / step.screenshot), full_page=full_page)
        finally:
            self.page.evaluate("() => window.__reviewKit.show(true)")
            self.offscreen.append((hidden_at, self.clock()))

    # -- the flow ----------------------------------------------------------------------------------------
    def run(self) -> list[Step]:
        self.sign_in()
        self.connect()
        self.composer()
        self.publish()
        self.disconnect()
        self.legal()
        return self.steps

    def sign_in(self) -> None:
        page = self.page
        step = self._step("sign-in", "Sign in", "The SaaS user signs in to the publishing console.")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        self.show.hold(2.0)
        self.sign_in_action(page)
        expect(page.get_by_role("heading", name="TikTok accounts")).to_be_visible()
        self.show.hold(1.5)
        self._shot(step)

    def connect(self) -> None:
        page, target = self.page, self.target
        step = self._step(
            "connect",
            "Connect a TikTok account",
            "Login Kit: the user is sent to TikTok's consent page and sees every permission asked.",
        )
        self.show.click(page.get_by_role("button", name="Connect a TikTok account"))
        page.wait_for_url(f"{target.consent_url_prefix}**")
        self.show.refresh()
        self.show.hold(2.5)
        self._shot(step, full_page=True)
        self.show.click(page.locator(f"#account-{target.account}"))
        page.locator(f"#account-{target.account}").check()
        self.show.hold(1.0)
        self.show.click(page.get_by_role("button", name="Authorize"))
        page.wait_for_url(f"{target.console_url}**")
        self.show.refresh()
        connected = self._step(
            "connected",
            "Account connected",
            "Back in the console: the account shows with its name and @username.",
        )
        expect(page.get_by_text("TikTok account connected.")).to_be_visible()
        row = self._row()
        expect(row).to_be_visible()
        self.show.point(row, hold=2.5)
        self._shot(connected)

    def _row(self) -> Locator:
        # The display name (the @username shows only when user.info.profile was granted).
        name = self.target.account.replace("_", " ").title()
        return self.page.locator("#account-list > li").filter(has_text=name)

    def composer(self) -> None:
        page, target = self.page, self.target
        step = self._step(
            "composer",
            "The post form",
            "Built from TikTok's creator info, fetched fresh: it shows who the post goes to.",
        )
        self.show.click(self._row().get_by_role("button", name="Post"))
        nickname = page.locator("#creator-nickname")
        expect(nickname).to_be_visible()
        self.show.point(nickname, hold=2.5)
        self._shot(step)

        media = self._step(
            "media", "Choose the video", "The video is previewed; nothing is uploaded before Publish."
        )
        page.get_by_label("Choose a video").set_input_files(str(target.video))
        expect(page.locator("#media-preview video")).to_be_visible()
        expect(page.locator("#video-meta")).to_contain_text(":")
        self.show.point(page.locator("#media-preview"), hold=2.0)
        self.show.type(page.get_by_label("Title"), "Behind the scenes of our spring collection #demo")
        self.show.hold(1.0)
        self._shot(media)

        privacy_step = self._step(
            "privacy",
            "Who can see this post",
            "Privacy comes from the creator's options and has no default: the user must choose.",
        )
        privacy = page.get_by_label("Who can see this post")
        expect(privacy).to_have_value("")
        self.show.point(privacy, hold=1.5)
        expect(page.locator("#publish-blockers")).not_to_be_empty()
        self.show.point(page.locator("#publish-blockers"), hold=2.0)
        self._shot(privacy_step)

        interactions_step = self._step(
            "interactions",
            "Interactions",
            "Comment, Duet and Stitch start off; those the creator turned off in TikTok are greyed out.",
        )
        interactions = page.locator("fieldset").filter(has_text="Allow users to")
        self.show.point(interactions, hold=1.5)
        disabled = interactions.locator(".check.is-disabled")
        if disabled.count():
            self.show.point(disabled.first, hold=2.0)
        enabled = interactions.locator("input[type=checkbox]:not([disabled])")
        if enabled.count():
            self.show.click(enabled.first)
        self.show.hold(1.0)
        self._shot(interactions_step)

        disclosure_step = self._step(
            "disclosure",
            "Commercial content disclosure",
            "Off by default; once on, the user must say if it promotes their own brand or a third party.",
        )
        switch = page.get_by_role("switch", name="Disclose post content")
        self.show.click(switch)
        required = page.locator("#c-disclosure-error")
        expect(required).to_contain_text("You need to indicate if your content promotes yourself")
        self.show.point(required, hold=2.0)
        self.show.click(page.get_by_label("Your brand", exact=True))
        expect(page.locator("#disclosure-label")).to_contain_text("Promotional content")
        self.show.point(page.locator("#disclosure-label"), hold=2.0)
        self._shot(disclosure_step)

        declaration_step = self._step(
            "declaration",
            "Declaration",
            "Above Publish, TikTok's declaration with the link to its Music Usage Confirmation.",
        )
        declaration = page.locator("#declaration")
        expect(declaration).to_contain_text("By posting, you agree to TikTok's")
        self.show.point(declaration, hold=2.5)
        self._shot(declaration_step)

        chosen = self._step(
            "choose-privacy", "Choose who can see it", f'The user picks "{target.privacy_label}".'
        )
        self.show.point(privacy, hold=0.8)
        privacy.select_option(label=target.privacy_label)
        expect(privacy).not_to_have_value("")
        self.show.hold(1.5)
        self._shot(chosen)

    def publish(self) -> None:
        page = self.page
        step = self._step(
            "publish", "Publish", "Only now is the video uploaded and sent to TikTok, with a progress bar."
        )
        publish = page.locator("#publish")
        expect(publish).to_be_enabled()
        self.show.click(publish)
        expect(page.get_by_text(re.compile("Sent to TikTok"))).to_be_visible(timeout=60_000)
        self.show.hold(1.5)
        self._shot(step)
        published = self._step(
            "published",
            "Status",
            "The post's status is followed live until TikTok has published it.",
        )
        item = page.locator("#post-list > li").filter(has_text="Behind the scenes").first
        self.show.point(item, hold=0.5)
        expect(item.locator(".badge")).to_have_text("Published", timeout=PUBLISH_TIMEOUT_MS)
        self.show.point(item.locator(".badge"), hold=2.5)
        self._shot(published)

    def disconnect(self) -> None:
        page = self.page
        step = self._step(
            "disconnect",
            "Disconnect",
            "The user can disconnect at any time: access is revoked at TikTok and the tokens are deleted.",
        )
        self.show.click(self._row().get_by_role("button", name=re.compile("^Disconnect")))
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        self.show.hold(2.0)
        self.show.click(dialog.get_by_role("button", name="Disconnect"))
        expect(page.get_by_text(re.compile("was disconnected"))).to_be_visible()
        self.show.hold(2.5)
        self._shot(step)

    def legal(self) -> None:
        page = self.page
        step = self._step(
            "legal",
            "Privacy policy and terms",
            "Linked from the console: TikTok data read, why each scope, retention, how to delete it all.",
        )
        self.show.click(page.get_by_role("link", name="Privacy policy"))
        expect(page.get_by_role("heading", name="Privacy policy", level=1)).to_be_visible()
        self.show.refresh()
        self.show.hold(2.0)
        scopes = page.locator("#scopes, table").first
        self.show.point(scopes, hold=2.5)
        self._shot(step, full_page=True)
        self.show.click(page.get_by_role("link", name="Terms of service"))
        expect(page.get_by_role("heading", name="Terms of service", level=1)).to_be_visible()
        self.show.refresh()
        self.show.hold(2.0)


def sign_in_with_token(token: str) -> Callable[[Page], None]:
    """Sign in by pasting a bearer token (any deployment)."""

    def sign_in(page: Page) -> None:
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in", exact=True).click()

    return sign_in


def sign_in_local(page: Page) -> None:
    """The local stack's one-click dev sign-in."""
    button = page.get_by_role("button", name="Use local dev token")
    expect(button).to_be_visible()
    button.click()
