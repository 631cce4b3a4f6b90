"""A tenant's own settings: what happens to a TikTok user's data when TikTok says the user removed the app
(`authorization.removed`). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RemovalPolicy(StrEnum):
    """What `authorization.removed` does in one tenant."""

    DELETE_TOKENS = "delete_tokens"  # the tokens go, the account stays `revoked` with its posts history
    DELETE_DATA = "delete_data"  # everything of that user goes, as DELETE /v1/accounts/{open_id}/data


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """One tenant's settings; a tenant that never set any has the defaults."""

    tenant_id: str
    on_authorization_removed: RemovalPolicy = RemovalPolicy.DELETE_TOKENS
    updated_at: str | None = None
