"""A tenant's settings: read them, change them. Logic only (the Tenants table is a port)."""

from __future__ import annotations

from dataclasses import replace

from tiktok_publisher.domain.tenants import RemovalPolicy, TenantSettings
from tiktok_publisher.ports import TenantSettingsStore


def get_settings(tenant_id: str, *, tenants: TenantSettingsStore) -> TenantSettings:
    """The tenant's settings (the defaults when it never set any)."""
    return tenants.get(tenant_id)


def update_settings(
    tenant_id: str,
    *,
    on_authorization_removed: RemovalPolicy | None,
    tenants: TenantSettingsStore,
    now: int,
) -> TenantSettings:
    """Change the given settings, keep the others; the same request twice leaves the same settings."""
    current = tenants.get(tenant_id)
    changed = replace(
        current, on_authorization_removed=on_authorization_removed or current.on_authorization_removed
    )
    return tenants.put(changed, now=now)
