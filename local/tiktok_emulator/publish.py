"""Content Posting: creator_info and the three init endpoints, with TikTok's policy checks."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .access import authorize_call, bad, guarded, json_body, need_str, opt_bool, opt_int, utf16_len
from .config import TestAccount
from .envelope import ApiError, v2_error, v2_ok
from .pulls import start_pull, url_verified
from .state import AccessToken, Post, Upload
from .uploads import chunk_plan_error, chunk_policy_error, create_upload_file

if TYPE_CHECKING:
    from .emulator import Emulator

DAY = 86400
VIDEO_BOOLS = (
    "disable_duet",
    "disable_comment",
    "disable_stitch",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
EMPTY_POST_INFO = "The request post info is empty or incorrect"
PHOTO_BOOLS = ("disable_comment", "auto_add_music", "brand_content_toggle", "brand_organic_toggle")


def posting_block(emu: Emulator, account: TestAccount, direct: bool) -> tuple[str, str] | None:
    """(code, message) when this creator cannot post now: banned, daily cap, active-user cap."""
    day_ago = emu.clock.now() - DAY
    if account.banned:
        return "spam_risk_user_banned_from_posting", "The user is banned from making new posts."
    if direct:
        direct_posts = [p for p in emu.store.posts_of(account.open_id, day_ago) if p.mode == "direct"]
        if len(direct_posts) >= emu.config.daily_post_cap:
            return "spam_risk_too_many_posts", "The daily post cap for this user has been reached."
    audited = emu.config.effectively_audited
    cap = emu.config.audited_active_user_cap if audited else emu.config.active_user_cap
    active = emu.store.active_users(day_ago)
    if cap is not None and account.open_id not in active and len(active) >= cap:
        return (
            "reached_active_user_cap",
            "The daily quota of active creators for this client has been reached.",
        )
    return None


def _account(emu: Emulator, token: AccessToken) -> TestAccount:
    account = emu.account(token.open_id)
    if account is None:
        raise ApiError("access_token_invalid", "The user no longer exists.", 401)
    return account


def _check_direct_policy(emu: Emulator, account: TestAccount, privacy: str) -> None:
    block = posting_block(emu, account, direct=True)
    if block:
        raise ApiError(block[0], block[1], 403)
    if privacy not in emu.config.privacy_options(account):
        raise ApiError(
            "privacy_level_option_mismatch", "privacy_level is not one of the creator's options.", 403
        )
    if not emu.config.effectively_audited and (privacy != "SELF_ONLY" or not account.private):
        raise ApiError(
            "unaudited_client_can_only_post_to_private_accounts",
            "Unaudited clients can only post SELF_ONLY to private accounts.",
            403,
        )


def _check_draft_policy(emu: Emulator, account: TestAccount) -> None:
    block = posting_block(emu, account, direct=False)
    if block:
        raise ApiError(block[0], block[1], 403)
    window = emu.config.pending_draft_window
    since = emu.clock.now() - window if window is not None else float("-inf")
    pending = [p for p in emu.store.posts_of(account.open_id, since) if p.pending_draft]
    if len(pending) >= emu.config.pending_draft_cap:
        raise ApiError(
            "spam_risk_too_many_pending_share",
            "The user has too many pending shares: they must post or discard some in the TikTok app first.",
            403,
        )


def _video_post_info(body: dict[str, Any]) -> dict[str, Any]:
    post_info = body.get("post_info")
    if not isinstance(post_info, dict):
        raise bad("post_info is required.")
    need_str(post_info, "privacy_level")
    title = post_info.get("title", "")
    if not isinstance(title, str) or utf16_len(title) > 2200:
        raise bad("title must be a string of at most 2200 UTF-16 code units.")
    for key in VIDEO_BOOLS:
        opt_bool(post_info, key)
    cover = opt_int(post_info, "video_cover_timestamp_ms")
    if cover is not None and cover < 0:
        raise bad("video_cover_timestamp_ms must not be negative.")
    return post_info


def _video_source(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    source_info = body.get("source_info")
    if not isinstance(source_info, dict):
        raise bad("source_info is required.")
    source = source_info.get("source")
    if source == "FILE_UPLOAD":
        sizes = (
            source_info.get("video_size"), source_info.get("chunk_size"), source_info.get("total_chunk_count")
        )  # fmt: skip
        error = chunk_plan_error(*sizes) or chunk_policy_error(emu.config, *sizes)
        if error:
            raise bad(error)
    elif source == "PULL_FROM_URL":
        need_str(source_info, "video_url")
    else:
        raise bad("source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")
    return source_info


def _check_urls(emu: Emulator, urls: list[str]) -> None:
    for url in urls:
        if not url_verified(url, emu.config.verified_url_prefixes, emu.config.allow_http_loopback):
            raise ApiError(
                "url_ownership_unverified",
                "The URL is not on a domain or URL prefix verified for this client (https required).",
                403,
            )


def _new_post(emu: Emulator, token: AccessToken, account: TestAccount, **fields: Any) -> Post:
    kind = {"video": "v", "photo": "p"}[fields["media"]]
    mode = "pub" if fields["mode"] == "direct" else "inbox"
    how = "file" if fields["source"] == "FILE_UPLOAD" else "url"
    publish_id = f"{kind}_{mode}_{how}~v2-1.{secrets.randbelow(10**19):019d}"
    status = "PROCESSING_UPLOAD" if fields["source"] == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
    return Post(
        publish_id=publish_id,
        open_id=account.open_id,
        account=account.name,
        grant_id=token.grant_id,
        created_at=emu.clock.now(),
        status=status,
        **fields,
    )


def _start_video(emu: Emulator, post: Post, host_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {"publish_id": post.publish_id}
    source_info = post.source_info
    if post.source == "FILE_UPLOAD":
        upload_id = f"{secrets.randbelow(10**19):019d}"
        path = emu.media_path(f"{upload_id}.upload")
        create_upload_file(path)
        upload = Upload(
            upload_id=upload_id,
            upload_token=secrets.token_urlsafe(24),
            publish_id=post.publish_id,
            video_size=source_info["video_size"],
            chunk_size=source_info["chunk_size"],
            total_chunk_count=source_info["total_chunk_count"],
            expires_at=emu.clock.now() + emu.config.upload_url_ttl,
            path=path,
        )
        post.upload_id = upload_id
        post.files = [path]
        with emu.store.lock:
            emu.store.uploads[upload_id] = upload
            emu.store.posts[post.publish_id] = post
        data["upload_url"] = (
            f"{host_url}upload/video/?upload_id={upload_id}&upload_token={upload.upload_token}"
        )
    else:
        with emu.store.lock:
            emu.store.posts[post.publish_id] = post
        start_pull(emu, post, [source_info["video_url"]])
    return data


def register(app: Flask, emu: Emulator) -> None:
    """Add creator_info and the init routes."""

    @app.post("/v2/post/publish/creator_info/query/")
    @guarded(emu, "creator_info")
    def creator_info() -> Response:
        token = authorize_call(emu, "creator_info", ("video.publish",))
        account = _account(emu, token)
        with emu.store.lock:
            block = posting_block(emu, account, direct=True)
        if block:
            # Documented: these quota answers come with HTTP 200; only the code says no.
            return v2_error(block[0], block[1], 200)
        return v2_ok(
            {
                "creator_avatar_url": account.avatar_url,
                "creator_username": account.username,
                "creator_nickname": account.display_name,
                "privacy_level_options": emu.config.privacy_options(account),
                "comment_disabled": account.comment_disabled,
                "duet_disabled": account.duet_disabled,
                "stitch_disabled": account.stitch_disabled,
                "max_video_post_duration_sec": account.max_video_post_duration_sec,
            }
        )

    @app.post("/v2/post/publish/video/init/")
    @guarded(emu, "video_init")
    def video_init() -> Response:
        token = authorize_call(emu, "video_init", ("video.publish",))
        body = json_body()
        post_info = _video_post_info(body)
        source_info = _video_source(emu, body)
        account = _account(emu, token)
        with emu.store.lock:
            _check_direct_policy(emu, account, post_info["privacy_level"])
            if source_info["source"] == "PULL_FROM_URL":
                _check_urls(emu, [source_info["video_url"]])
            post = _new_post(
                emu, token, account, mode="direct", media="video", source=source_info["source"],
                post_info=post_info, source_info=source_info,
            )  # fmt: skip
            return v2_ok(_start_video(emu, post, request.host_url))

    @app.post("/v2/post/publish/inbox/video/init/")
    @guarded(emu, "inbox_init")
    def inbox_init() -> Response:
        token = authorize_call(emu, "inbox_init", ("video.upload",))
        body = json_body()
        source_info = _video_source(emu, body)
        account = _account(emu, token)
        with emu.store.lock:
            _check_draft_policy(emu, account)
            if source_info["source"] == "PULL_FROM_URL":
                _check_urls(emu, [source_info["video_url"]])
            post = _new_post(
                emu, token, account, mode="inbox", media="video", source=source_info["source"],
                post_info={}, source_info=source_info,
            )  # fmt: skip
            return v2_ok(_start_video(emu, post, request.host_url))

    @app.post("/v2/post/publish/content/init/")
    @guarded(emu, "photo_init")
    def photo_init() -> Response:
        token = authorize_call(emu, "photo_init", ())
        body = json_body()
        direct, post_info, source_info = _photo_request(body, emu.config.refuse_empty_photo_post_info)
        scope = "video.publish" if direct else "video.upload"
        if scope not in token.scopes:
            raise ApiError(
                "scope_not_authorized", f"The user did not authorize the scope required: {scope}.", 401
            )
        account = _account(emu, token)
        with emu.store.lock:
            if direct:
                _check_direct_policy(emu, account, post_info["privacy_level"])
            else:
                _check_draft_policy(emu, account)
            _check_urls(emu, source_info["photo_images"])
            post = _new_post(
                emu, token, account, mode="direct" if direct else "inbox", media="photo",
                source="PULL_FROM_URL", post_info=post_info, source_info=source_info,
            )  # fmt: skip
            emu.store.posts[post.publish_id] = post
        start_pull(emu, post, list(source_info["photo_images"]))
        return v2_ok({"publish_id": post.publish_id})


def _photo_request(
    body: dict[str, Any], refuse_empty_post_info: bool
) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    if body.get("media_type") != "PHOTO":
        raise bad("media_type must be PHOTO.")
    post_mode = body.get("post_mode")
    if post_mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise bad("post_mode must be DIRECT_POST or MEDIA_UPLOAD.")
    direct = post_mode == "DIRECT_POST"
    post_info = body.get("post_info", {})
    if not isinstance(post_info, dict):
        raise bad("post_info must be an object.")
    if refuse_empty_post_info and not post_info:
        # Seen (MEDIA_UPLOAD drafts included): missing or {} post_info is refused with this message.
        raise bad(EMPTY_POST_INFO)
    if direct:
        need_str(post_info, "privacy_level")
    for key, limit in (("title", 90), ("description", 4000)):
        text = post_info.get(key, "")
        if not isinstance(text, str) or utf16_len(text) > limit:
            raise bad(f"{key} must be a string of at most {limit} UTF-16 code units.")
    for key in PHOTO_BOOLS:
        opt_bool(post_info, key)
    source_info = body.get("source_info")
    if not isinstance(source_info, dict) or source_info.get("source") != "PULL_FROM_URL":
        raise bad("source_info.source must be PULL_FROM_URL for photos.")
    images = source_info.get("photo_images")
    if (
        not isinstance(images, list)
        or not 1 <= len(images) <= 35
        or not all(isinstance(u, str) for u in images)
    ):
        raise bad("photo_images must be a list of 1 to 35 URLs.")
    cover = opt_int(source_info, "photo_cover_index", 0)
    if cover is None or not 0 <= cover < len(images):
        raise bad("photo_cover_index must index photo_images.")
    return direct, post_info, source_info
