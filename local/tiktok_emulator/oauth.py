"""Login Kit: the authorize page, the form-only token endpoint (codes, PKCE, rotation), revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Flask, Response, request

from .access import guarded
from .consent import consent_page, error_page
from .envelope import OAuthError, json_response
from .state import AuthCode

if TYPE_CHECKING:
    from .emulator import Emulator

TRUE = {"1", "true", "yes"}


@dataclass
class AuthorizeRequest:
    """A validated authorize request."""

    client_key: str
    redirect_uri: str
    response_type: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None


class PageError(Exception):
    """The client or redirect_uri is not trusted: show an error page, never redirect."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class RedirectError(Exception):
    """An error to report to the (trusted) redirect_uri."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def parse_authorize(emu: Emulator, params: Mapping[str, str]) -> AuthorizeRequest:
    """Validate like TikTok: client and redirect_uri first (page errors), then the rest (redirected)."""
    config = emu.config
    if params.get("client_key") != config.client_key:
        raise PageError("invalid_client", "client_key is missing or not registered.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in config.redirect_uris:
        raise PageError("invalid_request", "redirect_uri does not match a registered redirect URI exactly.")
    req = AuthorizeRequest(
        client_key=config.client_key,
        redirect_uri=redirect_uri,
        response_type=params.get("response_type", ""),
        scopes=[s.strip() for s in params.get("scope", "").split(",") if s.strip()],
        state=params.get("state") or None,
        code_challenge=params.get("code_challenge") or None,
        code_challenge_method=params.get("code_challenge_method") or None,
    )
    if req.response_type != "code":
        raise RedirectError("unsupported_response_type", "response_type must be code.")
    if not req.scopes:
        raise RedirectError("invalid_scope", "scope is required.")
    unknown = [s for s in req.scopes if s not in config.usable_scopes]
    if unknown:
        where = "this sandbox app" if config.sandbox else "this app"
        raise RedirectError("invalid_scope", f"scope not available to {where}: {','.join(unknown)}.")
    if req.code_challenge and req.code_challenge_method != "S256":
        raise RedirectError("invalid_request", "code_challenge_method must be S256.")
    if req.code_challenge_method and not req.code_challenge:
        raise RedirectError("invalid_request", "code_challenge is required with code_challenge_method.")
    if config.pkce_required and not req.code_challenge:
        # Seen: TikTok's own "Something went wrong" page naming code_challenge, and no redirect.
        raise PageError("code_challenge", "code_challenge (S256) is required for every authorize request.")
    return req


def _redirect(req: AuthorizeRequest, params: dict[str, str]) -> Response:
    if req.state is not None:
        params["state"] = req.state
    location = f"{req.redirect_uri}?{urlencode(params)}"
    return Response(status=302, headers={"Location": location})


def _approve(emu: Emulator, req: AuthorizeRequest, account_key: str, granted: list[str]) -> Response:
    account = emu.account(account_key)
    if account is None:
        return error_page("invalid_request", f"unknown test account {account_key!r}.")
    if emu.config.sandbox and account.name not in emu.config.sandbox_target_users:
        # A sandbox app only lets its target users in: TikTok shows its error page, nothing is redirected.
        return error_page(
            "unauthorized_client",
            f"This app is in sandbox mode and @{account.username} is not one of its target users.",
            403,
        )
    scopes = [s for s in req.scopes if s in granted]
    if not scopes:
        return _redirect(req, {"error": "access_denied", "error_description": "The user granted no scopes."})
    code = f"{secrets.token_urlsafe(32)}*3!{secrets.randbelow(10**4)}"
    with emu.store.lock:
        emu.store.codes[code] = AuthCode(
            code=code,
            client_key=req.client_key,
            open_id=account.open_id,
            scopes=scopes,
            redirect_uri=req.redirect_uri,
            code_challenge=req.code_challenge,
            expires_at=emu.clock.now() + emu.config.code_ttl,
        )
    return _redirect(req, {"code": code, "scopes": ",".join(scopes)})


def _deny(req: AuthorizeRequest) -> Response:
    return _redirect(
        req, {"error": "access_denied", "error_description": "The user cancelled the authorization."}
    )


def invalid_grant(emu: Emulator, description: str) -> OAuthError:
    """invalid_grant, answered with HTTP 200 when configured (as real servers were seen doing)."""
    return OAuthError("invalid_grant", description, 200 if emu.config.oauth_errors_http_200 else 400)


def pkce_matches(challenge: str, verifier: str, methods: list[str]) -> bool:
    """Hex SHA-256 (TikTok desktop) and/or RFC 7636 base64url, as configured."""
    digest = hashlib.sha256(verifier.encode()).digest()
    candidates = []
    if "hex" in methods:
        candidates.append(digest.hex())
    if "base64url" in methods:
        candidates.append(base64.urlsafe_b64encode(digest).rstrip(b"=").decode())
    return any(hmac.compare_digest(challenge.encode(), c.encode()) for c in candidates)


def register(app: Flask, emu: Emulator) -> None:
    """Add the OAuth routes."""

    def oauth_form() -> Mapping[str, str]:
        if (request.mimetype or "").lower() != "application/x-www-form-urlencoded":
            raise OAuthError(
                "invalid_request", "Content-Type must be application/x-www-form-urlencoded.", 400
            )
        form = request.form
        if not form.get("client_key"):
            raise OAuthError("invalid_request", "client_key is required.", 400)
        if form.get("client_key") != emu.config.client_key or not hmac.compare_digest(
            form.get("client_secret", "").encode(), emu.config.client_secret.encode()
        ):
            raise OAuthError("invalid_client", "Client key or secret is invalid.", 401)
        return form

    @app.route("/v2/auth/authorize/", methods=["GET", "POST"])
    def authorize() -> Response:
        params = request.args if request.method == "GET" else request.form
        try:
            req = parse_authorize(emu, params)
        except PageError as exc:
            return error_page(exc.error, exc.description)
        except RedirectError as exc:
            trusted = AuthorizeRequest(
                emu.config.client_key, params["redirect_uri"], "", [], None, None, None
            )
            trusted.state = params.get("state") or None
            return _redirect(trusted, {"error": exc.error, "error_description": exc.description})
        if request.method == "POST":
            if params.get("decision") != "authorize":
                return _deny(req)
            return _approve(emu, req, params.get("account", ""), request.form.getlist("grant"))
        auto = params.get("auto_approve", "").lower()
        if auto in {"cancel", "deny"}:
            return _deny(req)
        if auto in TRUE:
            granted = params.get("grant_scopes")
            scopes = [s.strip() for s in granted.split(",")] if granted is not None else req.scopes
            return _approve(emu, req, params.get("auto_approve_user", emu.config.default_account), scopes)
        targets = emu.config.sandbox_target_users if emu.config.sandbox else None
        return consent_page(
            emu.config.app_name, req, emu.config.accounts, emu.config.default_account, targets
        )

    @app.post("/v2/oauth/token/")
    @guarded(emu, "token")
    def token() -> Response:
        form = oauth_form()
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return json_response(_exchange_code(emu, form))
        if grant_type == "refresh_token":
            return json_response(_refresh(emu, form))
        raise OAuthError("unsupported_grant_type", "grant_type is not supported.", 400)

    @app.post("/v2/oauth/revoke/")
    @guarded(emu, "revoke")
    def revoke() -> Response:
        form = oauth_form()
        value = form.get("token", "")
        if not value:
            raise OAuthError("invalid_request", "token is required.", 400)
        with emu.store.lock:
            access = emu.store.access_tokens.get(value)
        if access is None or not access.live(emu.clock.now()):
            raise invalid_grant(emu, "The access token is invalid, expired or already revoked.")
        emu.revoke_grant(access.grant_id, emu.config.revoke_webhook_reason)
        return json_response({})


def _exchange_code(emu: Emulator, form: Mapping[str, str]) -> dict[str, object]:
    code_value = form.get("code", "")
    if not code_value:
        raise OAuthError("invalid_request", "code is required.", 400)
    with emu.store.lock:
        code = emu.store.codes.get(code_value)
        if code is None or code.used:
            raise invalid_grant(emu, "Authorization code is invalid or has already been used.")
        if emu.clock.now() >= code.expires_at:
            raise invalid_grant(emu, "Authorization code is expired.")
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise invalid_grant(emu, "redirect_uri does not match the one used to authorize.")
        if code.code_challenge:
            verifier = form.get("code_verifier", "")
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier is required.", 400)
            if not pkce_matches(code.code_challenge, verifier, emu.config.pkce_methods):
                raise invalid_grant(emu, "code_verifier does not match the code_challenge.")
        code.used = True
    return emu.issue_tokens(code.open_id, code.scopes)


def _refresh(emu: Emulator, form: Mapping[str, str]) -> dict[str, object]:
    value = form.get("refresh_token", "")
    if not value:
        raise OAuthError("invalid_request", "refresh_token is required.", 400)
    with emu.store.lock:
        refresh = emu.store.refresh_tokens.get(value)
        if refresh is None or refresh.revoked:
            raise invalid_grant(emu, "Refresh token is invalid or revoked.")
        if refresh.rotated:
            raise invalid_grant(emu, "Refresh token has been rotated: use the newest one.")
        if emu.clock.now() >= refresh.expires_at:
            raise invalid_grant(emu, "Refresh token is expired.")
        # Strict rotation: this refresh token dies now; the old access token lives until it expires.
        refresh.rotated = True
        return emu.issue_tokens(refresh.open_id, refresh.scopes, grant_id=refresh.grant_id)
