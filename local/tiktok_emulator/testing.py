"""Python API for tests: start an emulator on 127.0.0.1:<ephemeral> in a thread and drive it.

handle = start_emulator({"processing_delay": 0})
tokens = handle.connect("creator_private", ["user.info.basic", "video.publish"])
...
handle.stop()
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from .config import ALL_SCOPES, EmulatorConfig
from .emulator import Emulator
from .media import fake_mp4
from .server import EmulatorServer

T = TypeVar("T")
__all__ = ["EmulatorHandle", "fake_mp4", "start_emulator"]


class EmulatorHandle:
    """A running emulator plus helpers that act on it in-process (same effect as /_admin/)."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self.emulator: Emulator = server.emulator
        self.base_url = server.base_url

    # lifecycle
    def stop(self) -> None:
        """Shut the server down and delete received media."""
        self._server.stop()

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # admin helpers
    @property
    def config(self) -> EmulatorConfig:
        """The live configuration."""
        return self.emulator.config

    def reset(self) -> None:
        """Fresh state, initial config, clock back to wall time, no faults."""
        self.emulator.reset()

    def configure(self, **patch: Any) -> EmulatorConfig:
        """Patch the configuration (same keys as the config file)."""
        return self.emulator.patch_config(patch)

    def advance(self, seconds: float) -> float:
        """Move the emulator clock forward and run the state machine."""
        return self.emulator.advance_clock(seconds)

    def fault(self, endpoint: str, mode: str, count: int = 1, **options: Any) -> None:
        """Arm a fault: mode 5xx (status=), 429, error200 (code=), slow (delay_ms=), reset, status_as
        (status=), status_value (value=, status endpoint), fail (code=, the `processing` pseudo-endpoint)."""
        self.emulator.add_fault({"endpoint": endpoint, "mode": mode, "count": count, **options})

    def revoke_authorization(self, account: str, reason: int = 1) -> None:
        """The user disconnects the app: tokens die, authorization.removed fires."""
        found = self.emulator.account(account)
        if found is None:
            raise KeyError(account)
        self.emulator.revoke_account(found.open_id, reason)

    def issue_token(self, account: str = "creator_public", scopes: list[str] | None = None) -> dict[str, Any]:
        """Tokens without the OAuth dance (flat token response)."""
        found = self.emulator.account(account)
        if found is None:
            raise KeyError(account)
        return self.emulator.issue_tokens(found.open_id, list(scopes or ALL_SCOPES))

    def expire_access_token(self, access_token: str | None = None, account: str | None = None) -> int:
        """End a live access token (or every one of an account) before its stated expiry; the refresh
        token still works. Returns how many were ended."""
        if access_token is not None:
            return self.emulator.end_access_tokens(token=access_token)
        found = self.emulator.account(account or "")
        if found is None:
            raise KeyError(account)
        return self.emulator.end_access_tokens(open_id=found.open_id)

    def finish_draft(
        self,
        publish_id: str | None = None,
        *,
        account: str | None = None,
        outcome: str = "posted",
        privacy_level: str | None = None,
    ) -> dict[str, Any]:
        """The user posts (or discards) an inbox draft in the app; it stops counting as pending."""
        return self.emulator.finish_draft(
            publish_id=publish_id, account=account, outcome=outcome, privacy_level=privacy_level
        )

    def videos(self) -> list[dict[str, Any]]:
        """Public videos with their counts now (same as GET /_admin/videos)."""
        return self.emulator.videos()

    def state(self) -> dict[str, Any]:
        """Everything the emulator recorded (same as GET /_admin/state)."""
        response = requests.get(f"{self.base_url}/_admin/state", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def post(self, publish_id: str) -> dict[str, Any]:
        """One post's record."""
        self.emulator.tick()
        with self.emulator.store.lock:
            return self.emulator.store.posts[publish_id].to_dict()

    def received_bytes(self, publish_id: str, index: int = 0) -> bytes:
        """The bytes received for a post (upload or pull)."""
        with open(self.post(publish_id)["files"][index], "rb") as fh:
            return fh.read()

    def rate_limited(self) -> dict[str, int]:
        """Requests refused with rate_limit_exceeded (429) since start or reset, by bucket."""
        return self.emulator.limiter.refusals()

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook event recorded, with delivery attempts."""
        return self.emulator.webhooks.records()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02) -> T:
        """Poll (bounded) until predicate() is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            self.emulator.tick()
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(interval)

    # OAuth helpers over real HTTP
    def authorize_url(self, scopes: list[str], **params: str) -> str:
        """An authorize URL for the default client and redirect URI."""
        query = {
            "client_key": self.config.client_key,
            "response_type": "code",
            "scope": ",".join(scopes),
            "redirect_uri": self.config.redirect_uris[0],
            "state": params.pop("state", secrets.token_urlsafe(8)),
            **params,
        }
        return f"{self.base_url}/v2/auth/authorize/?{urlencode(query)}"

    def connect(self, account: str = "creator_public", scopes: list[str] | None = None) -> dict[str, Any]:
        """Authorize (auto-approved, with hex PKCE) and exchange the code: the flat token response."""
        scopes = list(scopes or ALL_SCOPES)
        verifier = secrets.token_urlsafe(48)
        url = self.authorize_url(
            scopes,
            code_challenge=hashlib.sha256(verifier.encode()).hexdigest(),
            code_challenge_method="S256",
            auto_approve="1",
            auto_approve_user=account,
        )
        location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = requests.post(
            f"{self.base_url}/v2/oauth/token/",
            data={
                "client_key": self.config.client_key,
                "client_secret": self.config.client_secret,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": self.config.redirect_uris[0],
                "code_verifier": verifier,
            },
            timeout=10,
        )
        body = dict(response.json())
        if "access_token" not in body:
            raise RuntimeError(f"token exchange failed: {body.get('error')}")
        return body


def start_emulator(
    config: EmulatorConfig | dict[str, Any] | None = None, *, quiet: bool = True
) -> EmulatorHandle:
    """Start an emulator on 127.0.0.1 with an ephemeral port, served from a daemon thread."""
    if isinstance(config, dict):
        config = EmulatorConfig.from_dict(config)
    server = EmulatorServer(Emulator(config), "127.0.0.1", 0, quiet=quiet)
    server.start()
    return EmulatorHandle(server)
