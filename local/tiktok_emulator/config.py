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
        "video_query": 600,
    }


# Scopes a sandbox app can use (seen: asking a sandbox for user.info.profile or user.info.stats fails).
SANDBOX_SCOPES = ("user.info.basic", "video.list", "video.publish", "video.upload")


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
    # Seen: authorize requests without code_challenge get TikTok's error page, web clients included.
    pkce_required: bool = True
    code_ttl: float = 600
    # Current docs: access 2 h, refresh 180 d, strict rotation (the classic 24 h / 365 d stay configurable).
    access_ttl: float = 7200
    refresh_ttl: float = 15552000
    # Seen: tokens stop working before their stated expiry. When set, access tokens die after this many
    # seconds while `expires_in` still says access_ttl.
    access_ttl_actual: float | None = None
    upload_url_ttl: float = 3600
    # Real servers were seen answering invalid_grant with HTTP 200; False answers it with 400.
    oauth_errors_http_200: bool = True
    audited: bool = False
    # Sandbox: unaudited rules whatever `audited` says, SELF_ONLY the only privacy option, scopes limited
    # to sandbox_scopes, and only sandbox_target_users may authorize.
    sandbox: bool = False
    sandbox_scopes: list[str] = field(default_factory=lambda: list(SANDBOX_SCOPES))
    sandbox_target_users: list[str] = field(default_factory=lambda: ["creator_public", "creator_private"])
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
    # Drafts held at once (seen): inbox shares not FAILED that the user has not posted or discarded yet.
    pending_draft_cap: int = 5
    # None: drafts count until finished (seen). N: the docs' reading, drafts created in the last N seconds.
    pending_draft_window: float | None = None
    active_user_cap: int = 5
    audited_active_user_cap: int | None = None
    rate_limits: dict[str, int] = field(default_factory=default_rate_limits)
    rate_limit_window_seconds: float = 60
    # FILE_UPLOAD init: a single chunk carries at most this many bytes (the 64 MB chunk limit, decimal).
    single_chunk_max_bytes: int = 64_000_000
    # Seen from 2026-08: every multi-chunk init refused with invalid_params "The chunk size is invalid".
    refuse_multi_chunk_init: bool = False
    # One reading of the docs: with total_chunk_count 1, chunk_size must equal video_size.
    single_chunk_must_equal_size: bool = False
    # Seen: photo MEDIA_UPLOAD with an empty post_info is refused ("The request post info is empty ...").
    refuse_empty_photo_post_info: bool = True
    # Video ids in /v2/video/query/: "string" (the docs), "number" (seen: raw int64 JSON numbers) or
    # "mixed" (both, by id, so a client must survive either without float rounding).
    video_query_id_format: str = "mixed"
    # Scale of view/like/comment/share and follower growth over the emulator clock (0 freezes counts).
    metrics_growth: float = 1.0
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
        config = cls(**data)
        config.validate()
        return config

    def validate(self) -> None:
        """Refuse values the emulator cannot act on."""
        if self.video_query_id_format not in {"string", "number", "mixed"}:
            raise ValueError("video_query_id_format must be string, number or mixed")
        unknown = set(self.sandbox_scopes) - set(ALL_SCOPES)
        if unknown:
            raise ValueError(f"unknown sandbox_scopes: {sorted(unknown)}")
        if self.metrics_growth < 0:
            raise ValueError("metrics_growth must not be negative")

    @property
    def effectively_audited(self) -> bool:
        """Sandbox apps are never audited."""
        return self.audited and not self.sandbox

    @property
    def usable_scopes(self) -> list[str]:
        """Scopes an authorize request may ask for: the app's, narrowed to the sandbox's in sandbox mode."""
        if self.sandbox:
            return [s for s in self.app_scopes if s in self.sandbox_scopes]
        return list(self.app_scopes)

    def privacy_options(self, account: TestAccount) -> list[str]:
        """creator_info privacy_level_options: SELF_ONLY alone in sandbox mode."""
        return ["SELF_ONLY"] if self.sandbox else account.privacy_level_options

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
