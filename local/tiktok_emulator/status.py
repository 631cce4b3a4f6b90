"""Status fetch and cancel for publish tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g

from .access import authorize_call, guarded, json_body
from .envelope import ApiError, v2_ok
from .state import AccessToken, Post

if TYPE_CHECKING:
    from .emulator import Emulator

POST_SCOPES = ("video.publish", "video.upload")


def _owned_post(emu: Emulator, token: AccessToken) -> Post:
    publish_id = json_body().get("publish_id")
    if not isinstance(publish_id, str) or not publish_id:
        raise ApiError("invalid_publish_id", "publish_id is required.", 400)
    with emu.store.lock:
        post = emu.store.posts.get(publish_id)
    if post is None:
        raise ApiError("invalid_publish_id", "The publish_id does not exist.", 400)
    if post.open_id != token.open_id:
        raise ApiError(
            "token_not_authorized_for_specified_publish_id",
            "The access token is not authorized for this publish_id.",
            400,
        )
    return post


def status_data(post: Post) -> dict[str, Any]:
    """The status payload: post ids as raw int64 JSON numbers (TikTok's spelling of the key)."""
    data: dict[str, Any] = {"status": post.status}
    if post.status == "FAILED":
        data["fail_reason"] = post.fail_reason
    data["publicaly_available_post_id"] = list(post.public_post_ids)
    if post.source == "FILE_UPLOAD":
        data["uploaded_bytes"] = post.uploaded_bytes
    else:
        data["downloaded_bytes"] = post.downloaded_bytes
    return data


def register(app: Flask, emu: Emulator) -> None:
    """Add status and cancel routes."""

    @app.post("/v2/post/publish/status/fetch/")
    @guarded(emu, "status")
    def fetch_status() -> Response:
        token = authorize_call(emu, "status", POST_SCOPES)
        post = _owned_post(emu, token)
        emu.tick()
        with emu.store.lock:
            data = status_data(post)
        if g.get("status_value"):
            data["status"] = g.status_value  # a status_value fault: a value the docs do not list
        return v2_ok(data)

    @app.post("/v2/post/publish/cancel/")
    @guarded(emu, "cancel")
    def cancel() -> Response:
        token = authorize_call(emu, "cancel", POST_SCOPES)
        post = _owned_post(emu, token)
        with emu.store.lock:
            cancellable = post.source == "PULL_FROM_URL" and post.status == "PROCESSING_DOWNLOAD"
            if cancellable and post.transfer_done_at is None:
                post.cancel.set()
            else:
                raise ApiError(
                    "invalid_params", "Only PULL_FROM_URL downloads in progress can be cancelled.", 400
                )
        emu.fail_post(post, "publish_cancelled")
        return v2_ok({})
