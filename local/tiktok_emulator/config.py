"""Emulator configuration: the registered app, its test accounts, lifetimes, caps and switches."""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALL_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
)
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
DEFAULT_REDIRECT_URI = "http://127.0.0.1:3000/v1/oauth/tiktok/callback"


def _open_id(name: str) -> str:
    # Stable across runs so fixtures and seeded data can name accounts by open_id.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tiktok-emulator/{name}"))


@dataclass
class TestAccount:
    """A TikTok user that can sign in on the consent page."""

    __test__ = False  # not a pytest test class

    name: str
    display_name: str = ""
    private: bool = False
    banned: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    is_verified: bool = False
    bio_description: str = ""
    follower_count: int = 0
    following_count: int = 0
    likes_count: int = 0
    video_count: int = 0
    open_id: str = ""
    union_id: str = ""

    def __post_init__(self) -> None:
        self.open_id = self.open_id or _open_id(self.name)
        self.union_id = self.union_id or _open_id(f"union/{self.name}")
        self.display_name = self.display_name or self.name.replace("_", " ").title()

    @property
    def username(self) -> str:
        """The @handle."""
        return self.name

    @property
    def avatar_url(self) -> str:
        """A stable, fake avatar URL."""
        return f"https://p16-sign.tiktokcdn-us.com/emulator/{self.open_id}.jpeg"

    @property
    def privacy_level_options(self) -> list[str]:
        """Options TikTok offers this account: they depend on whether the account is private."""
        return list(PRIVATE_OPTIONS if self.private else PUBLIC_OPTIONS)


def default_accounts() -> list[TestAccount]:
    """The accounts every emulator starts with."""
    return [
        TestAccount(
            "creator_public", follower_count=1200, following_count=80, likes_count=5400, video_count=42
        ),
        TestAccount(
            "creator_private",
            private=True,
            duet_disabled=True,
            stitch_disabled=True,
            max_video_post_duration_sec=300,
            follower_count=12,
        ),
        TestAccount("creator_banned", banned=True),
        TestAccount("creator_nocomments", comment_disabled=True, max_video_post_duration_sec=180),
    ]


def default_rate_limits() -> dict[str, int]:
    """Requests per access token per rate_limit_window_seconds, by bucket."""
    return {
        "video_init": 6,
        "inbox_init": 6,
        "photo_init": 6,
        "creator_info": 20,
        "status": 30,
        "cancel": 30,
        "user_info": 600,
    }


@dataclass
class EmulatorConfig:
    """Everything tunable. Field names are also the JSON config file keys and the admin patch keys."""

    client_key: str = "sbawlocaldevkey"
    client_secret: str = "local-dev-client-secret"
    app_name: str = "Local Publisher (emulator)"
    redirect_uris: list[str] = field(default_factory=lambda: [DEFAULT_REDIRECT_URI])
    app_scopes: list[str] = field(default_factory=lambda: list(ALL_SCOPES))
    accounts: list[TestAccount] = field(default_factory=default_accounts)
    default_account: str = "creator_public"
    # PKCE challenge encodings accepted: "hex" (TikTok desktop, seen) and/or "base64url" (RFC 7636).
    pkce_methods: list[str] = field(default_factory=lambda: ["hex"])
    code_ttl: float = 600
    access_ttl: float = 86400
    refresh_ttl: float = 31536000
    upload_url_ttl: float = 3600
    # Real servers were seen answering invalid_grant with HTTP 200; False answers it with 400.
    oauth_errors_http_200: bool = True
    audited: bool = False
    verified_url_prefixes: list[str] = field(default_factory=list)
    allow_http_loopback: bool = True
    webhook_url: str | None = None
    webhook_max_attempts: int = 4
    webhook_retry_delays: list[float] = field(default_factory=lambda: [0.5, 2.0, 5.0])
    webhook_timeout: float = 5.0
    revoke_webhook_reason: int = 1
    processing_delay: float = 1.0
    moderation_delay: float = 0.0
    daily_post_cap: int = 15
    pending_draft_cap: int = 5
    active_user_cap: int = 5
    audited_active_user_cap: int | None = None
    rate_limits: dict[str, int] = field(default_factory=default_rate_limits)
    rate_limit_window_seconds: float = 60
    pull_timeout: float = 30
    data_dir: str | None = None

    def account(self, key: str) -> TestAccount | None:
        """An account by name or open_id."""
        return next((a for a in self.accounts if key in (a.name, a.open_id)), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the admin API shows it)."""
        return dataclasses.asdict(self)

    def patched(self, patch: dict[str, Any]) -> EmulatorConfig:
        """A copy with `patch` applied; unknown keys are an error so typos do not pass silently."""
        merged = self.to_dict()
        unknown = set(patch) - set(merged)
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if "rate_limits" in patch:
            patch = {**patch, "rate_limits": {**merged["rate_limits"], **patch["rate_limits"]}}
        merged.update(patch)
        return EmulatorConfig.from_dict(merged)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmulatorConfig:
        """Build from plain data (a config file, an admin patch)."""
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if "accounts" in data:
            data["accounts"] = [
                a if isinstance(a, TestAccount) else TestAccount(**a) for a in data["accounts"]
            ]
        if "rate_limits" in data:
            data["rate_limits"] = {**default_rate_limits(), **data["rate_limits"]}
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> EmulatorConfig:
        """Read a JSON or YAML config file."""
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith((".yaml", ".yml")):
            import yaml  # only needed for YAML files

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        return cls.from_dict(data)
