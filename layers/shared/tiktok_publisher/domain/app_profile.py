"""What a SaaS front end should tell its users about this deployment: whether TikTok has audited the app
(until then TikTok accepts only SELF_ONLY posts from private accounts, by at most 5 users a day) and how
TikTok gets the media (PULL_FROM_URL from the verified prefix, or FILE_UPLOAD). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from tiktok_publisher.domain.post_form import UNAUDITED_REASON

# TIKTOK-API.md §6: an unaudited app's posts are SELF_ONLY, from private accounts, by at most 5 users a day.
UNAUDITED_PRIVACY_LEVELS: tuple[str, ...] = ("SELF_ONLY",)
UNAUDITED_DAILY_USERS = 5
LEGAL_PATHS = {"privacy_policy": "/legal/privacy", "terms_of_service": "/legal/terms"}


@dataclass(frozen=True, slots=True)
class AuditLimits:
    """What TikTok enforces on an unaudited app."""

    privacy_levels: tuple[str, ...] = UNAUDITED_PRIVACY_LEVELS
    private_accounts_only: bool = True
    max_posting_users_per_day: int = UNAUDITED_DAILY_USERS


@dataclass(frozen=True, slots=True)
class MediaPull:
    """How TikTok receives media: from our verified URL prefix (PULL_FROM_URL), or uploaded by us."""

    mode: Literal["none", "s3", "cloudfront"]
    transfer: Literal["PULL_FROM_URL", "FILE_UPLOAD"]
    base_url: str | None
    domain: str | None
    photo_posts: bool  # TikTok takes photos only by PULL_FROM_URL


@dataclass(frozen=True, slots=True)
class AppProfile:
    audit_mode: Literal["audited", "unaudited"]
    notice: str | None
    limits: AuditLimits | None
    media_pull: MediaPull
    legal: dict[str, str] = field(default_factory=lambda: dict(LEGAL_PATHS))


def app_profile(*, audited: bool, pull_mode: str, pull_base_url: str | None) -> AppProfile:
    """The deployment's profile from its settings (AppAudited, MediaPullMode, MediaPullBaseUrl)."""
    pulling = pull_mode in ("s3", "cloudfront") and bool(pull_base_url)
    mode: Literal["none", "s3", "cloudfront"] = pull_mode if pulling else "none"  # type: ignore[assignment]
    return AppProfile(
        audit_mode="audited" if audited else "unaudited",
        notice=None
        if audited
        else UNAUDITED_REASON + f" At most {UNAUDITED_DAILY_USERS} users may post a day.",
        limits=None if audited else AuditLimits(),
        media_pull=MediaPull(
            mode=mode,
            transfer="PULL_FROM_URL" if pulling else "FILE_UPLOAD",
            base_url=pull_base_url if pulling else None,
            domain=(urlsplit(pull_base_url).hostname or None) if pulling and pull_base_url else None,
            photo_posts=pulling,
        ),
    )
