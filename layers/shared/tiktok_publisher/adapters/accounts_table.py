"""AccountRepository: connected TikTok accounts, keyed by tenant on every read and write.

Tokens are sealed with TokenCipher (bound to tenant, open_id and token kind) before they reach DynamoDB and
only leave as plaintext through `get_tokens`/`get_credentials`; the `Account` view never holds them.
Every state change bumps `version`, and a refresh writes only if the version it read is still current, so
of two racing refreshers one wins and the other re-reads (a rotated refresh token is never lost).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PynamoDBException

from tiktok_publisher.adapters import aws
from tiktok_publisher.adapters.dynamodb import AccountModel, StoreError, due_page, is_condition_failure
from tiktok_publisher.config import get_settings
from tiktok_publisher.domain.accounts import (
    Account,
    AccountStatus,
    Credentials,
    iso,
    refresh_due_at_for,
    refresh_shard_for,
    token_lasts,
)
from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.metrics import USER_INFO_STATS, metrics_shard_for
from tiktok_publisher.domain.redaction import redact_text
from tiktok_publisher.domain.refresh import DueAccount, DuePage, KeysPage, RefreshKeys, ShardCursor
from tiktok_publisher.domain.tiktok import TokenSet, UserInfo
from tiktok_publisher.observability import logger

if TYPE_CHECKING:
    from tiktok_publisher.adapters.kms_cipher import TokenCipher


def _to_account(item: AccountModel) -> Account:
    return Account(
        tenant_id=item.tenant_id,
        open_id=item.open_id,
        display_name=item.display_name,
        username=item.username,
        avatar_url=item.avatar_url,
        scopes=list(item.scopes or []),
        status=AccountStatus(item.status or AccountStatus.ACTIVE),
        access_expires_at=int(item.access_expires_at or 0),
        refresh_expires_at=int(item.refresh_expires_at or 0),
        connected_at=item.connected_at or "",
        updated_at=item.updated_at or "",
        last_error=item.last_error,
        version=int(item.version or 0),
        fresh_token_by=int(item.fresh_token_by) if item.fresh_token_by is not None else None,
        stats=_plain_map(item.stats),
        stats_next_at=int(item.stats_next_at) if item.stats_next_at is not None else None,
    )


def _plain_map(value: Any) -> dict[str, Any] | None:
    """A raw MapAttribute as plain JSON (whole numbers as int)."""
    if value is None:
        return None
    raw = value.as_dict() if hasattr(value, "as_dict") else dict(value)
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in raw.items()}


# Alias: AccountRepository.list shadows the builtin inside the class body.
AccountList = list[Account]

_default_cipher_lock = threading.Lock()
_default_cipher: TokenCipher | None = None


def default_cipher() -> TokenCipher:
    """The container-wide TokenCipher (its data-key cache is what keeps KMS calls rare)."""
    global _default_cipher
    with _default_cipher_lock:
        if _default_cipher is None:
            # cryptography and the KMS client only when a token is sealed or opened (cold start: listing
            # accounts needs neither).
            from tiktok_publisher.adapters.kms_cipher import TokenCipher

            _default_cipher = TokenCipher(aws.client("kms"), get_settings().require("token_key_id"))
        return _default_cipher


def reset_default_cipher() -> None:
    """Forget the shared cipher (tests switch KMS keys between cases)."""
    global _default_cipher
    with _default_cipher_lock:
        _default_cipher = None


class AccountRepository:
    """Accounts table port. `cipher` defaults to the shared TokenCipher on TOKEN_KEY_ID, built on first use
    (listing accounts needs no KMS)."""

    def __init__(
        self,
        cipher: TokenCipher | None = None,
        *,
        refresh_shards: int | None = None,
        track_stats: bool = False,
    ) -> None:
        self._cipher = cipher
        self._refresh_shards = refresh_shards
        # The operator enabled metrics: a connection that granted user.info.stats joins the stats_due index.
        self.track_stats = track_stats

    @property
    def cipher(self) -> TokenCipher:
        if self._cipher is None:
            self._cipher = default_cipher()
        return self._cipher

    @property
    def refresh_shards(self) -> int:
        if self._refresh_shards is None:
            self._refresh_shards = get_settings().refresh_shards
        return self._refresh_shards

    # ------------------------------------------------------------------ reads

    def get(self, tenant_id: str, open_id: str) -> Account:
        """The tenant's account; NotFound for unknown ids and other tenants' ids alike."""
        return _to_account(self._get_item(tenant_id, open_id))

    def list(self, tenant_id: str) -> AccountList:
        """Every account of the tenant (all statuses)."""
        try:
            return [_to_account(item) for item in AccountModel.query(tenant_id)]
        except PynamoDBException as exc:
            raise StoreError.wrap("list accounts", exc) from None

    def get_tokens(self, tenant_id: str, open_id: str) -> tuple[str, str]:
        """Decrypted (access_token, refresh_token); NotFound when the account or its tokens are gone."""
        creds = self.get_credentials(tenant_id, open_id)
        return creds.access_token, creds.refresh_token

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials:
        """The account and its decrypted tokens from one consistent read (use its version for a refresh)."""
        item = self._get_item(tenant_id, open_id)
        if item.access_token_enc is None or item.refresh_token_enc is None:
            raise NotFound("This account has no stored authorization. Connect it again.")
        access = self.cipher.decrypt(
            item.access_token_enc, tenant_id=tenant_id, open_id=open_id, kind="access"
        )
        refresh = self.cipher.decrypt(
            item.refresh_token_enc, tenant_id=tenant_id, open_id=open_id, kind="refresh"
        )
        return Credentials(_to_account(item), access, refresh)

    def find_by_open_id(self, open_id: str) -> AccountList:
        """Every tenant's account for one TikTok user (webhooks only: they carry no tenant)."""
        try:
            return [_to_account(item) for item in AccountModel.by_open_id.query(open_id)]
        except PynamoDBException as exc:
            raise StoreError.wrap("find account", exc) from None

    def due_for_refresh(self, shard: str, before: int, *, limit: int | None = None) -> AccountList:
        """Active accounts of `shard` whose refresh_due_at is at or before `before` (sparse index)."""
        try:
            items = AccountModel.refresh_due.query(shard, AccountModel.refresh_due_at <= before, limit=limit)
            return [_to_account(item) for item in items]
        except PynamoDBException as exc:
            raise StoreError.wrap("query refresh_due", exc) from None

    def shards(self) -> Sequence[str]:
        """All refresh shard keys."""
        return [str(i) for i in range(self.refresh_shards)]

    # ------------------------------------------------------------------ writes

    def save_connection(
        self, tenant_id: str, open_id: str, profile: UserInfo, tokens: TokenSet, *, now: int
    ) -> Account:
        """Store a (re)connection: tokens encrypted, status active, version bumped. A reconnect of a
        revoked or needs_reconnect account revives it; connected_at keeps the first connection's time."""
        access_enc = self.cipher.encrypt(
            tokens.access_token, tenant_id=tenant_id, open_id=open_id, kind="access"
        )
        refresh_enc = self.cipher.encrypt(
            tokens.refresh_token, tenant_id=tenant_id, open_id=open_id, kind="refresh"
        )
        m = AccountModel
        stamp = iso(now)
        access_expires_at = now + tokens.expires_in
        refresh_expires_at = now + tokens.refresh_expires_in
        actions: list[Any] = [
            m.scopes.set(list(tokens.scopes)),
            m.status.set(AccountStatus.ACTIVE.value),
            m.access_token_enc.set(access_enc),
            m.refresh_token_enc.set(refresh_enc),
            m.access_expires_at.set(access_expires_at),
            m.refresh_expires_at.set(refresh_expires_at),
            m.refresh_shard.set(refresh_shard_for(tenant_id, open_id, self.refresh_shards)),
            m.refresh_due_at.set(refresh_due_at_for(access_expires_at, refresh_expires_at)),
            m.version.add(1),
            m.connected_at.set(m.connected_at | stamp),
            m.updated_at.set(stamp),
            m.last_error.remove(),
            m.reconnect_from_version.remove(),
            *self._stats_tracking(tenant_id, open_id, tokens.scopes, now),
        ]
        # A profile read with fewer scopes than last time must not erase what we knew.
        for attr, value in (
            (m.display_name, profile.display_name),
            (m.username, profile.username),
            (m.avatar_url, profile.avatar_url),
        ):
            if value is not None:
                actions.append(attr.set(value))
        item = AccountModel(tenant_id, open_id)
        try:
            item.update(actions=actions)
        except PynamoDBException as exc:
            raise StoreError.wrap("save connection", exc) from None
        logger.info("account connection saved", extra={"open_id": open_id, "version": item.version})
        self._keep_need(item)
        return _to_account(item)

    def save_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, expected_version: int, now: int
    ) -> bool:
        """Store refreshed tokens if the row is still active at `expected_version`; False when another writer
        won. Recomputes refresh_due_at (the account's place in the refresh_due index)."""
        m = AccountModel
        item = AccountModel(tenant_id, open_id)
        try:
            item.update(
                actions=self._refreshed_actions(tenant_id, open_id, tokens, now=now),
                # Every status change bumps version, so this is the refresher's view; `active` keeps
                # refresh_due_at off rows that are out of the index (no refresh_shard).
                condition=m.tenant_id.exists()
                & (m.version == expected_version)
                & (m.status == AccountStatus.ACTIVE.value),
            )
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                logger.info("refresh lost the race", extra={"open_id": open_id, "version": expected_version})
                return False
            raise StoreError.wrap("save refreshed tokens", exc) from None
        self._keep_need(item)
        return True

    def restore_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, marked_from_version: int, now: int
    ) -> Account | None:
        """Store refreshed tokens over a needs_reconnect mark made from `marked_from_version` (the version
        the refresher read): TikTok just issued them, so the grant lives and the mark was a racing refresher's
        mistake. The account is active again, back in the refresh index. None when the row is not marked
        from that version (a reconnect, a disconnect or a later mark won)."""
        m = AccountModel
        actions = [
            *self._refreshed_actions(tenant_id, open_id, tokens, now=now),
            m.status.set(AccountStatus.ACTIVE.value),
            m.refresh_shard.set(refresh_shard_for(tenant_id, open_id, self.refresh_shards)),
            m.last_error.remove(),
            m.reconnect_from_version.remove(),
        ]
        item = AccountModel(tenant_id, open_id)
        try:
            item.update(
                actions=actions,
                condition=m.tenant_id.exists()
                & (m.status == AccountStatus.NEEDS_RECONNECT.value)
                & (m.reconnect_from_version == marked_from_version),
            )
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                return None
            raise StoreError.wrap("restore refreshed tokens", exc) from None
        self._keep_need(item)
        logger.warning(
            "refreshed tokens restored an account marked needs_reconnect by a racing refresher",
            extra={"open_id": open_id, "marked_from_version": marked_from_version},
        )
        return _to_account(item)

    def _refreshed_actions(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, now: int
    ) -> Sequence[Any]:
        """Sealed tokens, their ends, the account's place in the refresh index, a version bump."""
        m = AccountModel
        access_expires_at = now + tokens.expires_in
        refresh_expires_at = now + tokens.refresh_expires_in
        actions: list[Any] = [
            m.access_token_enc.set(self._seal(tokens.access_token, tenant_id, open_id, "access")),
            m.refresh_token_enc.set(self._seal(tokens.refresh_token, tenant_id, open_id, "refresh")),
            m.access_expires_at.set(access_expires_at),
            m.refresh_expires_at.set(refresh_expires_at),
            # refreshed_at: a refresh that left the grant inside its window is not repeated every run.
            m.refresh_due_at.set(refresh_due_at_for(access_expires_at, refresh_expires_at, refreshed_at=now)),
            m.version.add(1),
            m.updated_at.set(iso(now)),
        ]
        if tokens.scopes:
            actions.append(m.scopes.set(list(tokens.scopes)))
        return actions

    def mark_needs_reconnect(
        self, tenant_id: str, open_id: str, reason: str, *, now: int | None = None
    ) -> Account:
        """The grant no longer works: out of the refresh index until the user connects again."""
        return self._set_status(
            tenant_id, open_id, AccountStatus.NEEDS_RECONNECT, reason, now=now, drop_tokens=False
        )

    def mark_revoked(
        self, tenant_id: str, open_id: str, reason: str | None = "revoked", *, now: int | None = None
    ) -> Account:
        """The user or TikTok removed the grant: tokens are dropped, the row (and its posts) stays."""
        return self._set_status(tenant_id, open_id, AccountStatus.REVOKED, reason, now=now, drop_tokens=True)

    def delete(self, tenant_id: str, open_id: str) -> tuple[bool, bool]:
        """Delete the tenant's account row (data deletion); (a row was deleted, it still held tokens).

        Keyed by tenant and open_id, so another tenant's row with the same open_id is untouched. Deleting a
        row that is already gone is not an error.
        """
        try:
            item = AccountModel.get(tenant_id, open_id, consistent_read=True)
        except AccountModel.DoesNotExist:
            return False, False
        except PynamoDBException as exc:
            raise StoreError.wrap("get account", exc) from None
        had_tokens = item.access_token_enc is not None or item.refresh_token_enc is not None
        try:
            item.delete()
        except PynamoDBException as exc:
            raise StoreError.wrap("delete account", exc) from None
        return True, had_tokens

    def delete_tokens(self, tenant_id: str, open_id: str, *, now: int | None = None) -> Account:
        """Forget both tokens (disconnect); without tokens the account also leaves the refresh index."""
        m = AccountModel
        actions = [
            m.access_token_enc.remove(),
            m.refresh_token_enc.remove(),
            m.refresh_shard.remove(),
            m.refresh_due_at.remove(),
            m.version.add(1),
            m.updated_at.set(iso(now if now is not None else int(time.time()))),
        ]
        return self._update_existing(tenant_id, open_id, actions, "delete tokens")

    # ------------------------------------------------------------------ a feature's need for a live token

    def need_fresh_token_by(self, tenant_id: str, open_id: str, at: int, *, now: int) -> bool:
        """A feature will call TikTok for this account at `at` (epoch s): the scheduled sweep refreshes the
        account ahead of it when its access token would not last until then (refresh_due_at_for). One need
        per account, the earliest pending one: a need already met (the token lasts until it) or past is
        replaced. Never bumps `version` (tokens and status are unchanged, so a refresher's lease at that
        version stays valid); written only while the row is still as read. False when the account is not
        active (or has no tokens)."""
        m = AccountModel
        for _ in range(5):
            item = self._get_item(tenant_id, open_id)
            if item.status != AccountStatus.ACTIVE.value or item.access_token_enc is None:
                return False
            access = int(item.access_expires_at or 0)
            current = item.fresh_token_by
            pending = current is not None and current >= now and not token_lasts(access, until=current)
            if pending and current is not None and current <= at:
                return True  # an earlier need is pending; its refresh is due first
            due = int(item.refresh_due_at if item.refresh_due_at is not None else at)
            if not token_lasts(access, until=at):
                due = min(due, int(at))
            condition = (
                m.tenant_id.exists()
                & (m.version == int(item.version or 0))
                & (m.status == AccountStatus.ACTIVE.value)
                & (m.fresh_token_by.does_not_exist() if current is None else m.fresh_token_by == current)
            )
            shard = item.refresh_shard or refresh_shard_for(tenant_id, open_id, self.refresh_shards)
            actions = [
                m.fresh_token_by.set(int(at)),
                m.refresh_due_at.set(due),
                m.refresh_shard.set(shard),
            ]
            try:
                AccountModel(tenant_id, open_id).update(actions=actions, condition=condition)
            except PynamoDBException as exc:
                if is_condition_failure(exc):
                    continue  # saved or asked meanwhile: read again
                raise StoreError.wrap("record fresh token need", exc) from None
            logger.info("fresh token needed", extra={"open_id": open_id, "fresh_token_by": int(at)})
            return True
        raise StoreError("storage kept changing while recording a fresh token need")

    def _keep_need(self, item: AccountModel) -> None:
        """A save computed refresh_due_at from the tokens alone; a pending feature need on the row (set by
        need_fresh_token_by, which does not bump version, so the save could not know it) may pull it
        earlier. Conditional on the row being as saved: a newer save does the same for itself."""
        need = item.fresh_token_by
        if need is None or item.refresh_due_at is None:
            return
        if token_lasts(int(item.access_expires_at or 0), until=int(need)) or item.refresh_due_at <= need:
            return
        m = AccountModel
        try:
            AccountModel(item.tenant_id, item.open_id).update(
                actions=[m.refresh_due_at.set(int(need))],
                condition=(m.version == int(item.version or 0)) & (m.fresh_token_by == need),
            )
        except PynamoDBException as exc:
            if not is_condition_failure(exc):
                # The tokens are saved; only the need's place in the index is late (the next save, or the
                # backfill command, puts it right). Never fail a save that TikTok's tokens depend on.
                logger.warning("fresh token need not applied", extra={"open_id": item.open_id})
            return
        item.refresh_due_at = int(need)

    def _stats_tracking(self, tenant_id: str, open_id: str, scopes: Sequence[str], now: int) -> Sequence[Any]:
        """stats_due index membership of a (re)connection: in when it granted user.info.stats (due now, or at
        its earlier claim), out when it did not."""
        if not self.track_stats:
            return []
        m = AccountModel
        if USER_INFO_STATS not in scopes:
            return [m.stats_shard.remove()]
        return [
            m.stats_shard.set(metrics_shard_for(tenant_id, open_id)),
            m.stats_next_at.set(m.stats_next_at | int(now)),
        ]

    # ------------------------------------------------------------------ plumbing

    def _seal(self, token: str, tenant_id: str, open_id: str, kind: str) -> bytes:
        return self.cipher.encrypt(token, tenant_id=tenant_id, open_id=open_id, kind=kind)

    def _set_status(
        self,
        tenant_id: str,
        open_id: str,
        status: AccountStatus,
        reason: str | None,
        *,
        now: int | None,
        drop_tokens: bool,
    ) -> Account:
        m = AccountModel
        actions: list[Any] = [
            m.status.set(status.value),
            m.refresh_shard.remove(),
            m.refresh_due_at.remove(),
            m.version.add(1),
            m.updated_at.set(iso(now if now is not None else int(time.time()))),
            m.reconnect_from_version.remove(),
        ]
        actions.append(m.last_error.set(redact_text(reason)[:500]) if reason else m.last_error.remove())
        if drop_tokens:
            actions += [m.access_token_enc.remove(), m.refresh_token_enc.remove()]
        account = self._update_existing(tenant_id, open_id, actions, f"mark {status}")
        logger.info("account status changed", extra={"open_id": open_id, "status": status, "reason": reason})
        return account

    def _update_existing(self, tenant_id: str, open_id: str, actions: Iterable[Any], what: str) -> Account:
        item = AccountModel(tenant_id, open_id)
        try:
            # The condition keeps an update from creating a half-empty row for an unknown account.
            item.update(actions=list(actions), condition=AccountModel.tenant_id.exists())
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                raise NotFound("Account not found.") from None
            raise StoreError.wrap(what, exc) from None
        return _to_account(item)

    def _get_item(self, tenant_id: str, open_id: str) -> AccountModel:
        try:
            return AccountModel.get(tenant_id, open_id, consistent_read=True)
        except AccountModel.DoesNotExist:
            raise NotFound("Account not found.") from None
        except PynamoDBException as exc:
            raise StoreError.wrap("get account", exc) from None


def _keys_of(item: AccountModel) -> RefreshKeys:
    return RefreshKeys(
        tenant_id=item.tenant_id,
        open_id=item.open_id,
        status=item.status or AccountStatus.ACTIVE.value,
        has_tokens=item.access_token_enc is not None,
        access_expires_at=int(item.access_expires_at or 0),
        refresh_expires_at=int(item.refresh_expires_at or 0),
        fresh_token_by=int(item.fresh_token_by) if item.fresh_token_by is not None else None,
        refresh_shard=item.refresh_shard,
        refresh_due_at=int(item.refresh_due_at) if item.refresh_due_at is not None else None,
        version=int(item.version or 0),
    )


class RefreshStore:
    """The refresh's view of the Accounts table: the sparse refresh_due index, the per-account refresh lease
    and the fenced needs_reconnect mark (DESIGN.md §6, docs/events.md "A live grant is never lost").

    The lease lives on the account row (refresh_lease_owner, refresh_lease_until, refresh_lease_version). A
    lease is valid only while `refresh_lease_version` equals the row's `version` and `until` is in the future,
    so saving refreshed tokens (which bumps `version`) ends it without a second write, and a crashed holder
    blocks others for LEASE_S at most.
    """

    # ------------------------------------------------------------------ the index

    def due_page(self, cursor: ShardCursor, *, before: int, limit: int) -> DuePage:
        """Up to `limit` active accounts of the shard with refresh_due_at < before, after the cursor. One
        DynamoDB page: `more` from its LastEvaluatedKey, `scanned` from its ScannedCount (what the sweep pays
        for), read through PynamoDB's result iterator."""
        m = AccountModel
        start: dict[str, dict[str, Any]] | None = None
        if cursor.after is not None:
            due_at, tenant_id, open_id = cursor.after
            start = {
                "refresh_shard": {"S": cursor.shard},
                "refresh_due_at": {"N": str(int(due_at))},
                "tenant_id": {"S": tenant_id},
                "open_id": {"S": open_id},
            }
        size = max(1, int(limit))
        try:
            result = m.refresh_due.query(
                cursor.shard,
                m.refresh_due_at < int(before),
                limit=size,
                page_size=size,
                last_evaluated_key=start,
                attributes_to_get=["tenant_id", "open_id", "refresh_due_at", "version"],
            )
            items = [
                DueAccount(
                    tenant_id=item.tenant_id,
                    open_id=item.open_id,
                    refresh_due_at=int(item.refresh_due_at or 0),
                    version=int(item.version or 0),
                )
                for item in result
            ]
        except PynamoDBException as exc:
            raise StoreError.wrap("query refresh_due", exc) from None
        return DuePage(items, result.last_evaluated_key is not None, result.page_iter.total_scanned_count)

    # ------------------------------------------------------------------ the backfill (entrypoints/cli.py)

    def keys_page(
        self, start: dict[str, Any] | None, *, limit: int, segment: int = 0, segments: int = 1
    ) -> KeysPage:
        """One page of a (parallel) scan of the whole table: each row's refresh keys and nothing else (no
        token is read). `start` is the previous page's next_start."""
        m = AccountModel
        size = max(1, int(limit))
        try:
            result = m.scan(
                limit=size,
                page_size=size,
                last_evaluated_key=start,
                segment=segment if segments > 1 else None,
                total_segments=segments if segments > 1 else None,
                consistent_read=True,
                attributes_to_get=[
                    "tenant_id",
                    "open_id",
                    "status",
                    "access_token_enc",
                    "access_expires_at",
                    "refresh_expires_at",
                    "fresh_token_by",
                    "refresh_shard",
                    "refresh_due_at",
                    "version",
                ],
            )
            items = [_keys_of(item) for item in result]
        except PynamoDBException as exc:
            raise StoreError.wrap("scan accounts", exc) from None
        return KeysPage(items, result.last_evaluated_key)

    def set_refresh_due(self, keys: RefreshKeys, *, shard: str, due: int) -> bool:
        """Move an account to `due` in `shard` of the refresh_due index, only if the row is still as `keys`
        read it (active, same version, same place): a save in between already placed it by the current rule.
        Never bumps version (a refresher's lease at that version stays valid)."""
        m = AccountModel
        same_place = (
            m.refresh_due_at.does_not_exist()
            if keys.refresh_due_at is None
            else m.refresh_due_at == int(keys.refresh_due_at)
        )
        condition = (
            m.tenant_id.exists()
            & (m.version == int(keys.version))
            & (m.status == AccountStatus.ACTIVE.value)
            & same_place
        )
        actions = [m.refresh_shard.set(shard), m.refresh_due_at.set(int(due))]
        return self._conditional(keys.tenant_id, keys.open_id, actions, condition, "backfill refresh_due_at")

    # ------------------------------------------------------------------ the lease

    def acquire_lease(
        self, tenant_id: str, open_id: str, *, version: int, owner: str, now: int, ttl: int
    ) -> bool:
        """Take the account for one refresh if it is still active at `version` and nobody holds it."""
        m = AccountModel
        condition = (
            m.tenant_id.exists()
            & (m.version == int(version))
            & (m.status == AccountStatus.ACTIVE.value)
            & (
                m.refresh_lease_until.does_not_exist()
                | (m.refresh_lease_until < int(now))
                | (m.refresh_lease_version != int(version))
            )
        )
        actions = [
            m.refresh_lease_owner.set(owner),
            m.refresh_lease_until.set(int(now) + int(ttl)),
            m.refresh_lease_version.set(int(version)),
        ]
        return self._conditional(tenant_id, open_id, actions, condition, "acquire refresh lease")

    def release_lease(self, tenant_id: str, open_id: str, *, owner: str) -> None:
        """Give the account back early (best effort: an expired lease frees itself anyway)."""
        m = AccountModel
        try:
            AccountModel(tenant_id, open_id).update(
                actions=[
                    m.refresh_lease_owner.remove(),
                    m.refresh_lease_until.remove(),
                    m.refresh_lease_version.remove(),
                ],
                condition=m.refresh_lease_owner == owner,
            )
        except PynamoDBException:
            return

    def mark_needs_reconnect(
        self,
        tenant_id: str,
        open_id: str,
        *,
        expected_version: int,
        reason: str,
        now: int,
        lease_owner: str | None,
        lease_now: int,
    ) -> bool:
        """needs_reconnect + why, out of the refresh index, recording the version the mark was made from
        (`reconnect_from_version`: a racing refresher's fresh tokens from that version still win).

        Only if nobody changed the row since `expected_version`, and:
        - with `lease_owner` (a refresher that got invalid_grant): that owner still holds the lease, so a
          refresher whose lease was taken over never marks (fencing: the newer holder decides);
        - without (a TikTok call that found the access token dead): no refresher holds a live lease at that
          version (`lease_now` is the lease clock), since its refresh may be renewing the tokens right now.
        """
        m = AccountModel
        version = int(expected_version)
        condition = m.tenant_id.exists() & (m.version == version)
        if lease_owner is not None:
            condition &= (m.refresh_lease_owner == lease_owner) & (m.refresh_lease_version == version)
        else:
            condition &= (
                m.refresh_lease_until.does_not_exist()
                | (m.refresh_lease_until < int(lease_now))
                | (m.refresh_lease_version != version)
            )
        actions: list[Any] = [
            m.status.set(AccountStatus.NEEDS_RECONNECT.value),
            m.last_error.set(reason[:500]),
            m.updated_at.set(iso(int(now))),
            m.reconnect_from_version.set(version),
            m.version.add(1),
            m.refresh_shard.remove(),
            m.refresh_due_at.remove(),
            m.refresh_lease_owner.remove(),
            m.refresh_lease_until.remove(),
            m.refresh_lease_version.remove(),
        ]
        return self._conditional(tenant_id, open_id, actions, condition, "mark needs_reconnect")

    def lease_of(self, tenant_id: str, open_id: str) -> Mapping[str, Any] | None:
        """The lease attributes that are set (tests and diagnostics), or None."""
        try:
            item = AccountModel.get(
                tenant_id,
                open_id,
                consistent_read=True,
                attributes_to_get=["refresh_lease_owner", "refresh_lease_until", "refresh_lease_version"],
            )
        except AccountModel.DoesNotExist:
            return None
        lease = {
            name: getattr(item, name)
            for name in ("refresh_lease_owner", "refresh_lease_until", "refresh_lease_version")
            if getattr(item, name) is not None
        }
        return lease or None

    @staticmethod
    def _conditional(tenant_id: str, open_id: str, actions: list[Any], condition: Any, what: str) -> bool:
        """One conditional UpdateItem: False when the condition failed; StoreError when DynamoDB did."""
        try:
            AccountModel(tenant_id, open_id).update(actions=actions, condition=condition)
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                return False
            raise StoreError.wrap(what, exc) from None
        return True


class AccountStatsStore:
    """The stats side of the Accounts table (ports.AccountStats): the read claim, the latest reading and the
    sparse stats_due index. It never touches tokens, status or `version`, so it cannot race a refresh."""

    def claim_stats_read(self, account: Account, *, next_at: int) -> bool:
        """Move `stats_next_at` from the value read to `next_at`; False when another reader moved it first."""
        m = AccountModel
        same = (
            m.stats_next_at.does_not_exist()
            if account.stats_next_at is None
            else m.stats_next_at == int(account.stats_next_at)
        )
        return self._write(account, [m.stats_next_at.set(int(next_at))], same, "claim stats")

    def release_stats_claim(self, account: Account, *, claimed_next_at: int) -> None:
        """Put `stats_next_at` back to the value read, if it is still our claim."""
        m = AccountModel
        back = (
            m.stats_next_at.remove()
            if account.stats_next_at is None
            else m.stats_next_at.set(int(account.stats_next_at))
        )
        self._write(account, [back], m.stats_next_at == int(claimed_next_at), "release stats claim")

    def save_stats(self, account: Account, reading: Mapping[str, Any]) -> None:
        """Store the latest stats reading."""
        self._write(account, [AccountModel.stats.set(dict(reading))], None, "save stats")

    def untrack_stats(self, account: Account) -> None:
        """The account leaves the stats_due index (not active any more, or the scope is gone)."""
        self._write(account, [AccountModel.stats_shard.remove()], None, "untrack stats")

    def stats_due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Account], dict[str, Any] | None]:
        """Tracked accounts of `shard` whose stats_next_at <= now, and the key to continue from (or None)."""
        items, following = due_page(
            AccountModel.stats_due, shard, AccountModel.stats_next_at <= now,
            limit=limit, start=start, what="query stats_due",
        )  # fmt: skip
        return [_to_account(item) for item in items], following

    @staticmethod
    def _write(account: Account, actions: list[Any], condition: Any, what: str) -> bool:
        full = (
            AccountModel.tenant_id.exists()
            if condition is None
            else AccountModel.tenant_id.exists() & condition
        )
        try:
            AccountModel(account.tenant_id, account.open_id).update(actions=actions, condition=full)
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                return False
            raise StoreError.wrap(what, exc) from None
        return True
