"""Scopes the connect flow asks for and needs (TIKTOK-API.md §2). Pure."""

from __future__ import annotations

from collections.abc import Iterable

from tiktok_publisher.domain.errors import InvalidInput
from tiktok_publisher.domain.metrics import METRICS_SCOPES

KNOWN_SCOPES = frozenset(
    {
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "video.publish",
        "video.upload",
    },
)
DEFAULT_SCOPES: tuple[str, ...] = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")
# What an account must have granted to be worth storing: user.info.basic identifies it (open_id, name,
# avatar), video.publish covers direct posts and creator_info, video.upload covers inbox drafts. A user
# may untick any of them on the consent page, and TikTok then grants fewer than we asked for.
REQUIRED_SCOPES: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload")
# Profile fields are only readable with user.info.profile; asking without it gives scope_permission_missed.
BASIC_USER_FIELDS: tuple[str, ...] = ("open_id", "union_id", "avatar_url", "display_name")
PROFILE_USER_FIELDS: tuple[str, ...] = ("username",)


def parse_scopes(raw: str | Iterable[str] | None) -> list[str]:
    """Split a comma- (or space-) separated scope list, dropping blanks and duplicates, keeping order."""
    if raw is None:
        return []
    items = raw.replace(" ", ",").split(",") if isinstance(raw, str) else list(raw)
    seen: dict[str, None] = {}
    for item in items:
        scope = item.strip()
        if scope:
            seen.setdefault(scope, None)
    return list(seen)


def requested_scopes(raw: str | None, *, metrics: bool = False) -> list[str]:
    """The scopes to ask TikTok for: the default set, or the caller's, which must be known and sufficient.
    With metrics enabled, the default set also asks for video.list and user.info.stats (METRICS_SCOPES):
    optional grants, so an account connected without them still publishes and is told to reconnect for
    metrics."""
    defaults = [*DEFAULT_SCOPES, *METRICS_SCOPES] if metrics else list(DEFAULT_SCOPES)
    scopes = parse_scopes(raw) or defaults
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise InvalidInput(
            f"Unknown scope(s): {', '.join(unknown)}.",
            details={"field": "scopes", "unknown": unknown, "known": sorted(KNOWN_SCOPES)},
        )
    missing = missing_scopes(scopes)
    if missing:
        raise InvalidInput(
            f"scopes must include {', '.join(missing)}: publishing needs them.",
            details={"field": "scopes", "missing": missing},
        )
    return scopes


def missing_scopes(granted: Iterable[str]) -> list[str]:
    """Required scopes absent from `granted`, in a stable order."""
    have = set(granted)
    return [s for s in REQUIRED_SCOPES if s not in have]


def user_fields(granted: Iterable[str]) -> list[str]:
    """user/info fields readable with the granted scopes."""
    have = set(granted)
    fields = list(BASIC_USER_FIELDS)
    if "user.info.profile" in have:
        fields += PROFILE_USER_FIELDS
    return fields
