"""GET /v2/user/info/: fields gated by the scopes the user granted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .access import authorize_call, bad, guarded
from .config import TestAccount
from .envelope import ApiError, v2_ok
from .videos import account_stats

if TYPE_CHECKING:
    from .emulator import Emulator

FIELD_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}


def user_fields(account: TestAccount, stats: dict[str, int]) -> dict[str, Any]:
    """Every field TikTok can return for a user (`stats`: the counts as they stand now)."""
    return {
        "open_id": account.open_id,
        "union_id": account.union_id,
        "avatar_url": account.avatar_url,
        "avatar_url_100": account.avatar_url.replace(".jpeg", "~100x100.jpeg"),
        "avatar_large_url": account.avatar_url.replace(".jpeg", "~1080x1080.jpeg"),
        "display_name": account.display_name,
        "bio_description": account.bio_description,
        "profile_deep_link": f"https://vm.tiktok.com/emulator/{account.username}/",
        "is_verified": account.is_verified,
        "username": account.username,
        **stats,
    }


def register(app: Flask, emu: Emulator) -> None:
    """Add the user info route."""

    @app.get("/v2/user/info/")
    @guarded(emu, "user_info")
    def user_info() -> Response:
        token = authorize_call(emu, "user_info", ())
        fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise bad("fields is required.")
        unknown = [f for f in fields if f not in FIELD_SCOPES]
        if unknown:
            raise bad(f"unknown fields: {','.join(unknown)}.")
        needed = {FIELD_SCOPES[f] for f in fields}
        if emu.config.sandbox:
            outside = sorted(needed - set(emu.config.sandbox_scopes))
            if outside:
                # The sandbox app is not authorized for these scopes at all, whatever the user granted.
                raise ApiError(
                    "scope_not_authorized",
                    f"The sandbox app is not authorized for the scopes of these fields: {','.join(outside)}.",
                    401,
                )
        missing = sorted(needed - set(token.scopes))
        if missing:
            raise ApiError(
                "scope_permission_missed",
                f"The fields requested need scopes the user did not grant: {','.join(missing)}.",
                400,
            )
        account = emu.account(token.open_id)
        if account is None:
            raise ApiError("access_token_invalid", "The user no longer exists.", 401)
        emu.tick()
        values = user_fields(account, account_stats(emu, account, emu.clock.now()))
        return v2_ok({"user": {f: values[f] for f in fields}})
