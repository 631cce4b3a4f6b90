"""What to register in TikTok's developer portal for one deployment. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tiktok_publisher.domain.deployment import Deployment

CALLBACK_PATH = "/v1/oauth/tiktok/callback"
WEBHOOK_PATH = "/v1/webhooks/tiktok"
PRIVACY_PATH = "/legal/privacy"
TERMS_PATH = "/legal/terms"


@dataclass(frozen=True)
class PortalValues:
    redirect_uri: str
    redirect_uri_registered: bool  # OAuthRedirectUri is set on the stack (else: deploy again with it)
    webhook_url: str
    privacy_policy_url: str
    terms_of_service_url: str
    scopes: tuple[tuple[str, str], ...]  # (scope, why)
    pull_prefix: str | None
    audited: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "redirect_uri": self.redirect_uri,
            "redirect_uri_registered": self.redirect_uri_registered,
            "webhook_url": self.webhook_url,
            "privacy_policy_url": self.privacy_policy_url,
            "terms_of_service_url": self.terms_of_service_url,
            "scopes": [{"scope": s, "reason": why} for s, why in self.scopes],
            "pull_prefix": self.pull_prefix,
            "audited": self.audited,
        }


def portal_values(deployment: Deployment, scopes: Sequence[tuple[str, str]]) -> PortalValues:
    """The URLs and scopes to paste into the portal: the stack's OAuthRedirectUri when set, else the callback
    of its API (to register, then pass back as OAuthRedirectUri)."""
    api = deployment.api_url.rstrip("/")
    registered = deployment.parameters.get("OAuthRedirectUri") or ""
    pull = deployment.parameters.get("MediaPullBaseUrl") or None
    mode = deployment.parameters.get("MediaPullMode", "none")
    return PortalValues(
        redirect_uri=registered or api + CALLBACK_PATH,
        redirect_uri_registered=bool(registered),
        webhook_url=api + WEBHOOK_PATH,
        privacy_policy_url=api + PRIVACY_PATH,
        terms_of_service_url=api + TERMS_PATH,
        scopes=tuple(scopes),
        pull_prefix=pull if mode in ("s3", "cloudfront") else None,
        audited=deployment.parameters.get("AppAudited", "false") == "true",
    )
