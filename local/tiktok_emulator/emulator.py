"""The emulator's core: configuration, clock, records and background work, with no HTTP in it."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from . import processing
from .clock import Clock
from .config import EmulatorConfig, TestAccount
from .faults import Fault, FaultRegistry
from .ratelimit import SlidingWindowLimiter
from .state import AccessToken, Grant, Post, RefreshToken, Store
from .videos import counts_of, public_videos
from .webhooks import WebhookDispatcher

TICK_SECONDS = 0.05


def random_token(prefix: str) -> str:
    """An opaque token; the `*` and `!` make un-decoded URL handling fail as it would at TikTok."""
    return f"{prefix}{secrets.token_urlsafe(30)}!{secrets.randbelow(10**4)}"


class Emulator:
    """One emulated TikTok: shared by every request thread, the ticker and the webhook thread."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.initial_config = config or EmulatorConfig()
        self.config = self.initial_config
        self.clock = Clock()
        # Account stats grow from here (emulator start or reset) on the emulator clock.
        self.epoch = self.clock.now()
        self.store = Store()
        self.limiter = SlidingWindowLimiter(self.clock)
        self.faults = FaultRegistry()
        self.webhooks = WebhookDispatcher(self.clock, lambda: self.config)
        self._own_data_dir = self.config.data_dir is None
        self.data_dir = Path(self.config.data_dir or tempfile.mkdtemp(prefix="tiktok-emulator-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="tiktok-emulator-ticker", daemon=True)

    # lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start background threads (state machine ticker, webhook delivery)."""
        self.webhooks.start()
        self._ticker.start()

    def stop(self) -> None:
        """Stop background threads and delete received media if the data dir is ours."""
        self._stop.set()
        self.store.clear()
        self.webhooks.stop()
        self._ticker.join(timeout=5)
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """Fresh state: no codes, tokens, posts, events or faults; clock and config back to the start."""
        with self.store.lock:
            self.store.clear()
            self.config = config or self.initial_config
            self.clock.reset()
            self.epoch = self.clock.now()
            self.limiter.clear()
            self.faults.clear()
            self.webhooks.reset()
            for child in self.data_dir.iterdir():
                if child.is_file():
                    child.unlink(missing_ok=True)

    def patch_config(self, patch: dict[str, Any]) -> EmulatorConfig:
        """Change settings at runtime (admin API)."""
        with self.store.lock:
            self.config = self.config.patched(patch)
            return self.config

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        """Arm a fault (admin API)."""
        fault = Fault.parse(spec)
        self.faults.add(fault)
        return fault

    def advance_clock(self, seconds: float) -> float:
        """Move emulator time forward and run the state machine at the new time."""
        now = self.clock.advance(seconds)
        self.tick()
        return now

    def tick(self) -> None:
        """Advance every post whose time has come."""
        processing.advance(self)

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # noqa: S112 - keep ticking; the next request will surface it
                continue

    # accounts and tokens ---------------------------------------------------------------------------
    def account(self, key: str) -> TestAccount | None:
        """A test account by name or open_id."""
        return self.config.account(key)

    def media_path(self, name: str) -> str:
        """Where received bytes for `name` go."""
        return str(self.data_dir / name)

    def issue_tokens(self, open_id: str, scopes: list[str], grant_id: str | None = None) -> dict[str, Any]:
        """New access + refresh token for a grant (new grant when none); the flat token response."""
        now = self.clock.now()
        config = self.config
        with self.store.lock:
            if grant_id is None:
                grant_id = secrets.token_hex(8)
                self.store.grants[grant_id] = Grant(grant_id, open_id, list(scopes), now)
            lifetime = config.access_ttl
            if config.access_ttl_actual is not None:
                lifetime = min(lifetime, config.access_ttl_actual)
            access = AccessToken(
                random_token("act."), grant_id, open_id, list(scopes), now, now + config.access_ttl,
                dies_at=now + lifetime,
            )  # fmt: skip
            refresh = RefreshToken(
                random_token("rft."), grant_id, open_id, list(scopes), now, now + config.refresh_ttl
            )
            self.store.access_tokens[access.token] = access
            self.store.refresh_tokens[refresh.token] = refresh
        return {
            "access_token": access.token,
            "expires_in": int(config.access_ttl),
            "open_id": open_id,
            "refresh_expires_in": int(config.refresh_ttl),
            "refresh_token": refresh.token,
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }

    def end_access_tokens(self, *, token: str | None = None, open_id: str | None = None) -> int:
        """End live access tokens before their stated expiry (one token, or all of a user's), as TikTok
        was seen doing; refresh tokens are untouched. Returns how many were ended."""
        now = self.clock.now()
        with self.store.lock:
            doomed = [
                t
                for t in self.store.access_tokens.values()
                if t.live(now) and (t.token == token or (token is None and t.open_id == open_id))
            ]
            for access in doomed:
                access.ended_early = True
                access.dies_at = now
        return len(doomed)

    def revoke_grant(self, grant_id: str, reason: int | None) -> None:
        """Kill a grant's tokens; fail its unfinished posts; announce authorization.removed."""
        with self.store.lock:
            grant = self.store.grants.get(grant_id)
            if grant is None or grant.revoked:
                return
            grant.revoked = True
            for access in self.store.access_tokens.values():
                access.revoked = access.revoked or access.grant_id == grant_id
            for refresh in self.store.refresh_tokens.values():
                refresh.revoked = refresh.revoked or refresh.grant_id == grant_id
            doomed = [p for p in self.store.posts.values() if p.grant_id == grant_id and not p.terminal]
        for post in doomed:
            post.cancel.set()
            self.fail_post(post, "auth_removed")
        if reason is not None:
            self.webhooks.emit("authorization.removed", grant.open_id, {"reason": reason})

    def revoke_account(self, open_id: str, reason: int) -> int:
        """Revoke every live grant of a user, as if they disconnected the app; returns how many."""
        with self.store.lock:
            grants = [
                g.grant_id for g in self.store.grants.values() if g.open_id == open_id and not g.revoked
            ]
        for index, grant_id in enumerate(grants):
            # One authorization.removed per user, not per grant.
            self.revoke_grant(grant_id, reason if index == 0 else None)
        if not grants:
            self.webhooks.emit("authorization.removed", open_id, {"reason": reason})
        return len(grants)

    # posts ----------------------------------------------------------------------------------------
    def finish_draft(
        self,
        *,
        publish_id: object = None,
        account: object = None,
        outcome: str = "posted",
        privacy_level: object = None,
    ) -> dict[str, Any]:
        """The user finishes an inbox draft in the TikTok app: posts it (PUBLISH_COMPLETE, webhook, a public
        id after moderation when posted PUBLIC_TO_EVERYONE) or discards it. Either way it stops counting
        against pending_draft_cap. Without publish_id, the account's oldest delivered draft is taken."""
        if outcome not in ("posted", "discarded"):
            raise ValueError("outcome must be posted or discarded")
        with self.store.lock:
            post = self._draft(publish_id, account)
            if post.mode != "inbox":
                raise ValueError("not an inbox draft")
            if post.draft_outcome is not None:
                raise ValueError(f"the draft was already {post.draft_outcome}")
            if post.status != "SEND_TO_USER_INBOX":
                raise ValueError(f"the draft is not in the user's inbox yet (status {post.status})")
            owner = self.account(post.open_id)
            options = self.config.privacy_options(owner) if owner else ["SELF_ONLY"]
            if privacy_level is None:
                privacy_level = "PUBLIC_TO_EVERYONE" if "PUBLIC_TO_EVERYONE" in options else "SELF_ONLY"
            if privacy_level not in options:
                raise ValueError(f"privacy_level must be one of {options}")
            now = self.clock.now()
            post.draft_outcome = outcome
            post.draft_finished_at = now
            if outcome == "posted":
                post.post_info = {**post.post_info, "privacy_level": privacy_level}
                post.status = "PUBLISH_COMPLETE"
                post.completed_at = now
            view = post.to_dict()
        if outcome == "posted":
            self.webhooks.emit(
                "post.publish.complete",
                post.open_id,
                {"publish_id": post.publish_id, "publish_type": post.publish_type},
            )
            self.tick()
            view = post.to_dict()
        return view

    def _draft(self, publish_id: object, account: object) -> Post:
        if publish_id:
            post = self.store.posts.get(str(publish_id))
            if post is None:
                raise LookupError("unknown publish_id")
            return post
        found = self.account(str(account or ""))
        if found is None:
            raise LookupError("give publish_id, or account / open_id")
        delivered = [
            p
            for p in self.store.posts.values()
            if p.open_id == found.open_id and p.pending_draft and p.status == "SEND_TO_USER_INBOX"
        ]
        if not delivered:
            raise LookupError("the account holds no delivered draft")
        return min(delivered, key=lambda p: p.created_at)

    def videos(self) -> list[dict[str, Any]]:
        """Every public video with its counts now (admin view; ids as raw int64)."""
        now = self.clock.now()
        return [
            {
                "id": post.public_post_ids[0],
                "publish_id": post.publish_id,
                "account": post.account,
                "open_id": post.open_id,
                "public_at": post.public_at,
                **counts_of(self, post, now),
            }
            for post in public_videos(self)
        ]

    def fail_post(self, post: Post, reason: str) -> None:
        """Move a post to FAILED (once) and announce it."""
        with self.store.lock:
            # A post forgotten by reset() may still have a download thread finishing: stay quiet.
            if post.terminal or self.store.posts.get(post.publish_id) is not post:
                return
            post.status = "FAILED"
            post.fail_reason = reason
            post.completed_at = self.clock.now()
        self.webhooks.emit(
            "post.publish.failed",
            post.open_id,
            {"publish_id": post.publish_id, "reason": reason, "publish_type": post.publish_type},
        )
