"""GET /v1/app (the deployment's audit mode and media pull domain, for a SaaS front end) and GET/PUT
/v1/settings (the caller tenant's settings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, ConfigDict, Field

from tiktok_publisher.accounts import tenant_settings
from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.domain.app_profile import app_profile
from tiktok_publisher.domain.tenants import RemovalPolicy, TenantSettings
from tiktok_publisher.entrypoints.http.caller import CallerDep
from tiktok_publisher.entrypoints.http.docs import error_responses, ok_response

Policy = Literal["delete_tokens", "delete_data"]


class AuditLimitsView(BaseModel):
    privacy_levels: list[str] = Field(description="The only privacy levels TikTok accepts (SELF_ONLY).")
    private_accounts_only: bool = Field(description="TikTok refuses posts from public accounts.")
    max_posting_users_per_day: int = Field(description="Users who may post through the app in 24 hours.")


class MediaPullView(BaseModel):
    mode: Literal["none", "s3", "cloudfront"]
    transfer: Literal["PULL_FROM_URL", "FILE_UPLOAD"] = Field(description="How TikTok receives videos.")
    base_url: str | None = Field(None, description="The URL prefix verified at TikTok (PULL_FROM_URL).")
    domain: str | None = Field(None, description="Its host name.")
    photo_posts: bool = Field(
        description="Photo posts need PULL_FROM_URL: available only with a pull domain."
    )


class AppInfo(BaseModel):
    """What a front end should tell its users about this deployment."""

    audit_mode: Literal["audited", "unaudited"]
    notice: str | None = Field(None, description="A sentence to show users while the app is unaudited.")
    limits: AuditLimitsView | None = Field(None, description="TikTok's limits on an unaudited app.")
    media_pull: MediaPullView
    legal: dict[str, str] = Field(description="Paths of the privacy policy and terms of service.")


class SettingsView(BaseModel):
    on_authorization_removed: Policy = Field(
        description=(
            "What TikTok's authorization.removed (a user removing the app in TikTok) does in this "
            "tenant: `delete_tokens` (default: tokens deleted, the account stays `revoked` with its posts "
            "history) or `delete_data` (everything of that user, as DELETE /v1/accounts/{open_id}/data)."
        )
    )
    updated_at: str | None = None


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_authorization_removed: Policy | None = None


def _settings_view(settings: TenantSettings) -> SettingsView:
    return SettingsView(
        on_authorization_removed=settings.on_authorization_removed.value,  # type: ignore[arg-type]
        updated_at=settings.updated_at,
    )


def register_tenant(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register /v1/app and /v1/settings on `app`."""

    @app.get(
        "/v1/app",
        summary="The app's audit mode and media pull domain",
        description=(
            "Until TikTok audits the app, TikTok accepts only SELF_ONLY posts from private accounts, by at "
            "most 5 users a day: `audit_mode` says which applies, with a sentence to show users."
        ),
        tags=["App"],
        responses={**ok_response(AppInfo, "The deployment's profile"), **error_responses(401)},
    )
    def get_app(who: CallerDep) -> AppInfo:
        s = ports().settings
        profile = app_profile(
            audited=s.app_audited, pull_mode=s.media_pull_mode, pull_base_url=s.media_pull_base_url
        )
        return AppInfo(
            audit_mode=profile.audit_mode,
            notice=profile.notice,
            limits=AuditLimitsView(
                privacy_levels=list(profile.limits.privacy_levels),
                private_accounts_only=profile.limits.private_accounts_only,
                max_posting_users_per_day=profile.limits.max_posting_users_per_day,
            )
            if profile.limits
            else None,
            media_pull=MediaPullView(
                mode=profile.media_pull.mode,
                transfer=profile.media_pull.transfer,
                base_url=profile.media_pull.base_url,
                domain=profile.media_pull.domain,
                photo_posts=profile.media_pull.photo_posts,
            ),
            legal=profile.legal,
        )

    @app.get(
        "/v1/settings",
        summary="The tenant's settings",
        tags=["Settings"],
        responses={
            **ok_response(SettingsView, "The settings (defaults if never set)"),
            **error_responses(401),
        },
    )
    def get_settings(who: CallerDep) -> SettingsView:
        return _settings_view(tenant_settings.get_settings(who.tenant_id, tenants=ports().tenants))

    @app.put(
        "/v1/settings",
        summary="Change the tenant's settings",
        description="Fields left out keep their value; the same request twice gives the same settings.",
        tags=["Settings"],
        responses={**ok_response(SettingsView, "The settings now"), **error_responses(401, 422)},
    )
    def put_settings(who: CallerDep, body: SettingsUpdate) -> SettingsView:
        p = ports()
        policy = RemovalPolicy(body.on_authorization_removed) if body.on_authorization_removed else None
        updated = tenant_settings.update_settings(
            who.tenant_id, on_authorization_removed=policy, tenants=p.tenants, now=p.now()
        )
        return _settings_view(updated)
