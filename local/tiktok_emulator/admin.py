"""The test-double admin API under /_admin/: inspect, reset, move the clock, reconfigure, inject faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request, send_file

from .envelope import json_response

if TYPE_CHECKING:
    from .emulator import Emulator


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _problem(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


def register(app: Flask, emu: Emulator) -> None:
    """Add the admin routes."""

    @app.get("/_admin/state")
    def state() -> Response:
        emu.tick()
        return json_response(
            {
                "now": emu.clock.now(),
                "config": emu.config.to_dict(),
                **emu.store.snapshot(),
                "webhooks": emu.webhooks.records(),
                "faults": emu.faults.list(),
                "rate_limited": emu.limiter.refusals(),
            }
        )

    @app.get("/_admin/posts/<publish_id>")
    def post(publish_id: str) -> Response:
        emu.tick()
        with emu.store.lock:
            found = emu.store.posts.get(publish_id)
            return json_response(found.to_dict()) if found else _problem("unknown publish_id", 404)

    @app.get("/_admin/posts/<publish_id>/bytes")
    def post_bytes(publish_id: str) -> Response:
        index = request.args.get("index", "0")
        with emu.store.lock:
            found = emu.store.posts.get(publish_id)
            files = list(found.files) if found else []
        if not index.isdigit() or int(index) >= len(files):
            return _problem("no received bytes for that publish_id/index", 404)
        return send_file(files[int(index)], mimetype="application/octet-stream", conditional=False)

    @app.get("/_admin/webhooks")
    def webhooks() -> Response:
        return json_response(emu.webhooks.records())

    @app.post("/_admin/reset")
    def reset() -> Response:
        emu.reset()
        return json_response({"ok": True})

    @app.get("/_admin/clock")
    def clock() -> Response:
        return json_response({"now": emu.clock.now(), "offset": emu.clock.offset})

    @app.post("/_admin/clock/advance")
    def advance() -> Response:
        seconds = _body().get("seconds")
        if not isinstance(seconds, (int, float)) or seconds < 0:
            return _problem("seconds must be a non-negative number")
        return json_response({"now": emu.advance_clock(float(seconds)), "offset": emu.clock.offset})

    @app.post("/_admin/tick")
    def tick() -> Response:
        emu.tick()
        return json_response({"now": emu.clock.now()})

    @app.get("/_admin/config")
    def get_config() -> Response:
        return json_response(emu.config.to_dict())

    @app.post("/_admin/config")
    def patch_config() -> Response:
        try:
            return json_response(emu.patch_config(_body()).to_dict())
        except (TypeError, ValueError) as exc:
            return _problem(str(exc))

    @app.post("/_admin/revoke-authorization")
    def revoke_authorization() -> Response:
        body = _body()
        account = emu.account(str(body.get("account") or body.get("open_id") or ""))
        if account is None:
            return _problem("unknown account", 404)
        reason = body.get("reason", 1)
        if not isinstance(reason, int) or not 0 <= reason <= 5:
            return _problem("reason must be 0..5")
        revoked = emu.revoke_account(account.open_id, reason)
        return json_response({"open_id": account.open_id, "grants_revoked": revoked})

    @app.post("/_admin/tokens")
    def issue_tokens() -> Response:
        body = _body()
        account = emu.account(str(body.get("account", emu.config.default_account)))
        if account is None:
            return _problem("unknown account", 404)
        scopes = body.get("scopes") or list(emu.config.app_scopes)
        return json_response(emu.issue_tokens(account.open_id, list(scopes)))

    @app.post("/_admin/expire-access-token")
    def expire_access_token() -> Response:
        body = _body()
        token = body.get("access_token")
        if isinstance(token, str) and token:
            ended = emu.end_access_tokens(token=token)
            if not ended:
                return _problem("no live access token with that value", 404)
            return json_response({"ended": ended})
        account = emu.account(str(body.get("account") or body.get("open_id") or ""))
        if account is None:
            return _problem("give access_token, or account / open_id", 404)
        return json_response({"ended": emu.end_access_tokens(open_id=account.open_id)})

    @app.post("/_admin/drafts/finish")
    def finish_draft() -> Response:
        body = _body()
        try:
            post = emu.finish_draft(
                publish_id=body.get("publish_id"),
                account=body.get("account") or body.get("open_id"),
                outcome=str(body.get("outcome", "posted")),
                privacy_level=body.get("privacy_level"),
            )
        except LookupError as exc:
            return _problem(str(exc.args[0]), 404)
        except ValueError as exc:
            return _problem(str(exc), 409)
        return json_response(post)

    @app.get("/_admin/videos")
    def list_videos() -> Response:
        return json_response(emu.videos())

    @app.get("/_admin/faults")
    def list_faults() -> Response:
        return json_response(emu.faults.list())

    @app.post("/_admin/faults")
    def add_fault() -> Response:
        try:
            emu.add_fault(_body())
        except (TypeError, ValueError) as exc:
            return _problem(str(exc))
        return json_response(emu.faults.list())

    @app.delete("/_admin/faults")
    def clear_faults() -> Response:
        emu.faults.clear()
        return json_response([])
