"""The status state machine after transfer: media checks, then complete / inbox / failed, then public."""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING

from .media import check_photo, check_video
from .state import Post

if TYPE_CHECKING:
    from .emulator import Emulator

_advance_lock = threading.Lock()
PROCESSING = frozenset({"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"})


def new_post_id() -> int:
    """A 19-digit int64 like TikTok's video ids: well above 2**53, so floats would round it."""
    return 7_300_000_000_000_000_000 + secrets.randbelow(900_000_000_000_000_000)


def advance(emu: Emulator) -> None:
    """Move every post whose processing delay (or moderation delay) has passed on the emulator clock."""
    with _advance_lock:
        with emu.store.lock:
            posts = list(emu.store.posts.values())
        for post in posts:
            now = emu.clock.now()
            done_at = post.transfer_done_at
            if (
                post.status in PROCESSING
                and done_at is not None
                and now >= done_at + emu.config.processing_delay
            ):
                _finish(emu, post)
            if _moderation_due(emu, post):
                _make_public(emu, post)


def _finish(emu: Emulator, post: Post) -> None:
    fault = emu.faults.take("processing")
    if fault is not None:  # mode "fail": TikTok failing the post on its side (e.g. fail_reason internal)
        emu.fail_post(post, fault.code)
        return
    account = emu.account(post.open_id)
    max_duration = account.max_video_post_duration_sec if account else 600
    for path in post.files:
        reason = check_video(path, max_duration) if post.media == "video" else check_photo(path)
        if reason:
            emu.fail_post(post, reason)
            return
    with emu.store.lock:
        if post.terminal:
            return
        post.status = "PUBLISH_COMPLETE" if post.mode == "direct" else "SEND_TO_USER_INBOX"
        post.completed_at = emu.clock.now()
    event = "post.publish.complete" if post.mode == "direct" else "post.publish.inbox_delivered"
    emu.webhooks.emit(event, post.open_id, {"publish_id": post.publish_id, "publish_type": post.publish_type})


def _moderation_due(emu: Emulator, post: Post) -> bool:
    return (
        post.status == "PUBLISH_COMPLETE"
        and post.is_public
        and not post.public_post_ids
        and post.completed_at is not None
        and emu.clock.now() >= post.completed_at + emu.config.moderation_delay
    )


def _make_public(emu: Emulator, post: Post) -> None:
    post_id = new_post_id()
    with emu.store.lock:
        post.public_post_ids = [post_id]
        post.public_at = emu.clock.now()
    emu.webhooks.emit(
        "post.publish.publicly_available",
        post.open_id,
        {"publish_id": post.publish_id, "post_id": str(post_id), "publish_type": post.publish_type},
    )
