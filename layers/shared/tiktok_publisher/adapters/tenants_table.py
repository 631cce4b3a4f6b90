"""TenantSettingsRepository: the Tenants table, one item of settings per tenant (keyed by the tenant only)."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from tiktok_publisher.adapters.dynamodb import StoreError, TenantModel
from tiktok_publisher.domain.accounts import iso
from tiktok_publisher.domain.tenants import RemovalPolicy, TenantSettings


class TenantSettingsRepository:
    """Reads and writes one tenant's settings; a tenant without an item has the defaults."""

    def get(self, tenant_id: str) -> TenantSettings:
        try:
            item = TenantModel.get(tenant_id, consistent_read=True)
        except TenantModel.DoesNotExist:
            return TenantSettings(tenant_id)
        except PynamoDBException as exc:
            raise StoreError.wrap("get tenant settings", exc) from None
        policy = item.on_authorization_removed or RemovalPolicy.DELETE_TOKENS.value
        return TenantSettings(tenant_id, RemovalPolicy(policy), item.updated_at)

    def put(self, settings: TenantSettings, *, now: int) -> TenantSettings:
        stamp = iso(now)
        try:
            TenantModel(
                settings.tenant_id,
                on_authorization_removed=settings.on_authorization_removed.value,
                updated_at=stamp,
            ).save()
        except PynamoDBException as exc:
            raise StoreError.wrap("save tenant settings", exc) from None
        return TenantSettings(settings.tenant_id, settings.on_authorization_removed, stamp)
