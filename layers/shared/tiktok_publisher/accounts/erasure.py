"""Delete everything about one TikTok user in one tenant: the grant at TikTok (best effort), the tokens and
the account row, the posts history and the uploads in S3; then an `Account Data Deleted` event as the audit
record. One call does it all and is safe to repeat (DESIGN.md §3 keys every item by the tenant, so nothing of
another tenant is reached). Logic only: the tables, S3, TikTok and the bus are ports.

Order: the uploads and posts go before the account row, so a call that fails halfway leaves the row for the
retry to find, and a retry deletes what is left. The revoke comes first, while tokens still exist.

TikTok's authorization belongs to the app and the user, not to our tenant: revoking it ends every tenant's
connection of that user (TikTok then sends authorization.removed). So the grant is revoked only when no other
tenant still has that user actively connected; otherwise this tenant's tokens are just deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tiktok_publisher.accounts.service import shared_elsewhere, token_to_revoke
from tiktok_publisher.domain.accounts import iso
from tiktok_publisher.domain.erasure import ErasureReceipt, ErasureTrigger, account_uploads_prefix
from tiktok_publisher.domain.errors import DomainError
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import Accounts, Events, MediaStore, Posts, TikTokAuth, Tokens


@dataclass
class AccountEraser:
    accounts: Accounts
    posts: Posts
    media: MediaStore
    events: Events
    client: TikTokAuth
    tokens: Tokens
    clock: Callable[[], float] = time.time

    def erase(
        self, tenant_id: str, open_id: str, *, trigger: ErasureTrigger, revoke: bool = True
    ) -> ErasureReceipt:
        """Delete the user's data in this tenant; the receipt says what was there to delete."""
        prefix = account_uploads_prefix(tenant_id, open_id)  # refuses ids that would widen the prefix
        now = int(self.clock())
        revoked = self._revoke(tenant_id, open_id, now=now) if revoke else False
        uploads = self.media.delete_under(prefix)
        posts = self.posts.delete_for_account(tenant_id, open_id)
        account_deleted, had_tokens = self.accounts.delete(tenant_id, open_id)
        receipt = ErasureReceipt(
            tenant_id=tenant_id,
            open_id=open_id,
            trigger=trigger,
            deleted_at=iso(now),
            account_deleted=account_deleted,
            # Revoking makes TikTok send authorization.removed, whose webhook may drop the tokens first.
            tokens_deleted=had_tokens or revoked,
            revoked_at_tiktok=revoked,
            posts_deleted=posts,
            uploads_deleted=uploads,
        )
        # The audit record: published on every call, so a repeated request is on record too (with zeros).
        self.events.publish(DetailType.ACCOUNT_DATA_DELETED, receipt.event_detail(), tenant_id=tenant_id)
        logger.info(
            "account data deleted",
            extra={"open_id": open_id, "trigger": str(trigger), "posts": posts, "uploads": uploads},
        )
        count("AccountDataDeleted")
        return receipt

    def _revoke(self, tenant_id: str, open_id: str, *, now: int) -> bool:
        """Revoke the grant while a token can; never blocks the deletion (the user asked for it)."""
        if shared_elsewhere(tenant_id, open_id, accounts=self.accounts):
            logger.info("data deletion: another tenant still uses this grant; not revoked at TikTok")
            return False
        try:
            access = token_to_revoke(tenant_id, open_id, accounts=self.accounts, tokens=self.tokens, now=now)
        except DomainError as exc:
            logger.warning(
                "data deletion: no token to revoke with", extra={"error_class": type(exc).__name__}
            )
            return False
        if access is None:
            return False
        try:
            self.client.revoke(access)
        except TikTokError as exc:
            # The tokens are deleted next either way; the grant then dies unused at its own expiry.
            logger.warning("data deletion: revoke at TikTok failed", extra={"tiktok_code": exc.code})
            return False
        return True
