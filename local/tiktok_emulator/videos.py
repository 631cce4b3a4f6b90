"""After the post: public videos, their counts growing on the emulator clock, and POST /v2/video/query/.

A post becomes a video when moderation gives it a public post id (processing.py). Its counts are a pure
function of (video id, seconds since it went public, metrics_growth): deterministic, never decreasing,
different from video to video. Account stats add the account's base counts to what its videos earned.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .access import authorize_call, bad, guarded, json_body
from .config import TestAccount
from .envelope import ApiError, v2_ok
from .media import video_duration
from .state import Post

if TYPE_CHECKING:
    from .emulator import Emulator

DAY = 86400
MAX_QUERY_IDS = 20
COVER_TTL = 6 * 3600  # the docs: cover_image_url links live 6 hours
VIDEO_FIELDS = (
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
    "is_aigc",
)


def _rng(*parts: object) -> random.Random:
    seed = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def video_counts(video_id: int, age_seconds: float, growth: float) -> dict[str, int]:
    """view/like/comment/share counts of a video `age_seconds` after it went public.

    Views follow a saturating curve (most come in the first hours to days) plus a slow long tail; likes,
    comments and shares are per-video fractions of views. Every count is monotonic in age.
    """
    rng = _rng("video", video_id)
    peak = rng.randint(2_000, 250_000)
    tau = rng.uniform(6, 48) * 3600
    like_ratio = rng.uniform(0.04, 0.12)
    comment_ratio = rng.uniform(0.002, 0.01)
    share_ratio = rng.uniform(0.001, 0.008)
    age = max(0.0, age_seconds)
    views = math.floor(growth * peak * ((1 - math.exp(-age / tau)) + 0.02 * age / DAY))
    return {
        "view_count": views,
        "like_count": math.floor(views * like_ratio),
        "comment_count": math.floor(views * comment_ratio),
        "share_count": math.floor(views * share_ratio),
    }


def public_videos(emu: Emulator, open_id: str | None = None) -> list[Post]:
    """Posts that have a public post id (optionally one user's), oldest first."""
    with emu.store.lock:
        posts = [
            p
            for p in emu.store.posts.values()
            if p.public_post_ids and p.public_at is not None and open_id in (None, p.open_id)
        ]
    return sorted(posts, key=lambda p: p.public_at or 0.0)


def counts_of(emu: Emulator, post: Post, now: float) -> dict[str, int]:
    """Current counts of a public post."""
    assert post.public_at is not None
    return video_counts(post.public_post_ids[0], now - post.public_at, emu.config.metrics_growth)


def account_stats(emu: Emulator, account: TestAccount, now: float) -> dict[str, int]:
    """follower/following/likes/video counts: the account's base plus organic growth since the emulator
    started (or was reset) plus what its public videos earned."""
    growth = emu.config.metrics_growth
    days = max(0.0, now - emu.epoch) / DAY
    rng = _rng("account", account.open_id)
    followers_per_day = rng.uniform(2, 40) + account.follower_count * 0.002
    views = likes = 0
    videos = public_videos(emu, account.open_id)
    for post in videos:
        counts = counts_of(emu, post, now)
        views += counts["view_count"]
        likes += counts["like_count"]
    return {
        "follower_count": account.follower_count
        + math.floor(growth * days * followers_per_day)
        + math.floor(views * 0.004),
        "following_count": account.following_count + math.floor(growth * days * 0.3),
        "likes_count": account.likes_count + likes,
        "video_count": account.video_count + len(videos),
    }


def _requested_ids(body: dict[str, Any]) -> list[int]:
    filters = body.get("filters")
    if not isinstance(filters, dict):
        raise bad("filters is required.")
    raw = filters.get("video_ids")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUERY_IDS:
        raise bad(f"filters.video_ids must be a list of 1 to {MAX_QUERY_IDS} video ids.")
    ids: list[int] = []
    for value in raw:
        # The docs send ids as strings; a raw JSON integer is taken too. A float (an id a client rounded
        # through a double) is not an id.
        if isinstance(value, str) and value.isdigit():
            ids.append(int(value))
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            ids.append(value)
        else:
            raise bad("filters.video_ids must hold video ids (strings of digits).")
    return ids


def _id_value(video_id: int, id_format: str) -> int | str:
    if id_format == "number" or (id_format == "mixed" and video_id % 2 == 1):
        return video_id  # a raw JSON number above 2**53: parse it without a float
    return str(video_id)


def video_object(emu: Emulator, post: Post, fields: list[str], now: float) -> dict[str, Any]:
    """The video object with only the requested fields, in TikTok's names."""
    video_id = post.public_post_ids[0]
    account = emu.account(post.open_id)
    username = account.username if account else "user"
    share_url = f"https://www.tiktok.com/@{username}/video/{video_id}"
    title = str(post.post_info.get("title") or "")
    expires = int(now + COVER_TTL)
    signature = hashlib.sha256(f"{video_id}/{expires}".encode()).hexdigest()[:24]
    duration = 0
    if post.media == "video" and post.files:
        duration = round(video_duration(post.files[0]) or 0)
    values: dict[str, Any] = {
        "id": _id_value(video_id, emu.config.video_query_id_format),
        "create_time": int(post.public_at or post.created_at),
        "cover_image_url": (
            f"https://p16-sign.tiktokcdn-us.com/emulator/{video_id}~tplv-noop.image"
            f"?x-expires={expires}&x-signature={signature}"
        ),
        "share_url": share_url,
        "video_description": str(post.post_info.get("description") or title)[:150],
        "duration": duration,
        "height": 1920,
        "width": 1080,
        "title": title[:150],
        "embed_html": (
            f'<blockquote class="tiktok-embed" cite="{share_url}" data-video-id="{video_id}" '
            f'style="max-width: 605px;min-width: 325px;"><section></section></blockquote>'
            '<script async src="https://www.tiktok.com/embed.js"></script>'
        ),
        "embed_link": f"https://www.tiktok.com/player/v1/{video_id}",
        "is_aigc": bool(post.post_info.get("is_aigc", False)),
        **counts_of(emu, post, now),
    }
    return {f: values[f] for f in fields}


def register(app: Flask, emu: Emulator) -> None:
    """Add the video query route."""

    @app.post("/v2/video/query/")
    @guarded(emu, "video_query")
    def video_query() -> Response:
        token = authorize_call(emu, "video_query", ("video.list",))
        fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise bad("fields is required.")
        unknown = [f for f in fields if f not in VIDEO_FIELDS]
        if unknown:
            raise bad(f"unknown fields: {','.join(unknown)}.")
        ids = _requested_ids(json_body())
        if emu.account(token.open_id) is None:
            raise ApiError("access_token_invalid", "The user no longer exists.", 401)
        emu.tick()
        now = emu.clock.now()
        owned = {p.public_post_ids[0]: p for p in public_videos(emu, token.open_id)}
        # Ids that are not this user's public videos are left out, not reported: TikTok only "verifies
        # that the videos belong to the user".
        seen: set[int] = set()
        videos = []
        for video_id in ids:
            if video_id in owned and video_id not in seen:
                seen.add(video_id)
                videos.append(video_object(emu, owned[video_id], fields, now))
        return v2_ok({"videos": videos, "cursor": 0, "has_more": False})
