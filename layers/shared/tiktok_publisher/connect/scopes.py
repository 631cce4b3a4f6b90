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
# Login Kit's and the Content Posting API's scopes: what every app that can publish has. user.info.profile,
# user.info.stats and video.list belong to TikTok's Display API product, and TikTok refuses the whole
# authorize request (invalid_scope) when an app without it asks for one of them (seen: brightbean-studio#106,
# sandbox apps; AceDataCloud/Skills#798). So they are asked for only when the operator enabled metrics
# (MetricsEnabled=true), which needs the Display API anyway: see DISPLAY_API_SCOPES.
DEFAULT_SCOPES: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload")
# With metrics on: the @username (user.info.profile) and the counts (video.list, user.info.stats).
DISPLAY_API_SCOPES: tuple[str, ...] = ("user.info.profile", *METRICS_SCOPES)
# What an account must have granted to be worth storing: user.info.basic identifies it (open_id, name,
# avatar), video.publish covers direct posts and creator_info, video.upload covers inbox drafts. A user
# may untick any of them on the consent page, and TikTok then grants fewer than we asked for.
REQUIRED_SCOPES: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload")
# Profile fields are only readable with user.info.profile; asking without it gives scope_permission_missed.
BASIC_USER_FIELDS: tuple[str, ...] = ("open_id", "union_id", "avatar_url", "display_name")
PROFILE_USER_FIELDS: tuple[str, ...] = ("username",)


def app_scopes(*, metrics: bool) -> tuple[str, ...]:
    """The scopes the connect flow asks for by default: what the app must have in TikTok's portal (and what
    the legal pages and the go-live tool list)."""
    return (*DEFAULT_SCOPES, *DISPLAY_API_SCOPES) if metrics else DEFAULT_SCOPES


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
    With metrics enabled, the default set also asks for the Display API's user.info.profile, video.list and
    user.info.stats (DISPLAY_API_SCOPES): optional grants, so an account connected without them still
    publishes and is told to reconnect for metrics."""
    defaults = list(app_scopes(metrics=metrics))
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
