"""Deleting everything about one TikTok user in one tenant (the privacy policy's promise): what is deleted,
where a user's uploads live, and the audit event's detail. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErasureTrigger(StrEnum):
    """Why the data was deleted (in the audit event)."""

    API = "api"  # DELETE /v1/accounts/{open_id}/data
    AUTHORIZATION_REMOVED = "authorization_removed"  # TikTok's webhook, under the tenant's delete_data policy


def account_uploads_prefix(tenant_id: str, open_id: str) -> str:
    """The S3 prefix holding every upload of one account of one tenant (publishing's key layout).

    Refuses ids that could widen the prefix to someone else's objects: empty, or holding a "/".
    """
    for name, value in (("tenant_id", tenant_id), ("open_id", open_id)):
        if not value or "/" in value:
            raise ValueError(f"{name} cannot name an uploads folder: {value!r}")
    return f"uploads/{tenant_id}/{open_id}/"


@dataclass(frozen=True, slots=True)
class ErasureReceipt:
    """What one deletion removed. Calling it again removes nothing more: the counts are then zero."""

    tenant_id: str
    open_id: str
    trigger: ErasureTrigger
    deleted_at: str
    account_deleted: bool
    tokens_deleted: bool
    revoked_at_tiktok: bool
    posts_deleted: int
    uploads_deleted: int

    def event_detail(self) -> dict[str, Any]:
        """The `Account Data Deleted` event's detail (no token, no content: ids and counts)."""
        return {
            "open_id": self.open_id,
            "trigger": str(self.trigger),
            "deleted_at": self.deleted_at,
            "deleted": {
                "account": self.account_deleted,
                # "grant", not "tokens": token-named fields never leave the system (domain/events.py).
                "grant": self.tokens_deleted,
                "posts": self.posts_deleted,
                "uploads": self.uploads_deleted,
            },
            "revoked_at_tiktok": self.revoked_at_tiktok,
        }
