"""DynamoDB port of the refresh area: the refresh_due index, per-account refresh leases, conditional marks.

Talks to the Accounts table with the low-level client (aws.client("dynamodb")) because it touches
attributes the PynamoDB model does not declare (the lease) and needs ScannedCount for the sweep's
read accounting. The lease lives on the account row:

    refresh_lease_owner (S), refresh_lease_until (N), refresh_lease_version (N)

A lease is valid only while `refresh_lease_version` equals the row's `version` and `until` is in the future,
so saving refreshed tokens (which bumps `version`) ends it without a second write, and a crashed holder
blocks others for LEASE_S at most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tiktok_publisher.adapters import aws
from tiktok_publisher.adapters.dynamodb import StoreError
from tiktok_publisher.domain.accounts import AccountStatus, iso
from tiktok_publisher.domain.refresh import ShardCursor

REFRESH_DUE_INDEX = "refresh_due"
_ACTIVE = "active"


@dataclass(frozen=True)
class DueAccount:
    """One entry of the refresh_due index (keys and the version the index saw)."""

    tenant_id: str
    open_id: str
    refresh_due_at: int
    version: int

    @property
    def position(self) -> tuple[int, str, str]:
        """The account's place in its shard (a ShardCursor.after)."""
        return (self.refresh_due_at, self.tenant_id, self.open_id)


@dataclass(frozen=True)
class DuePage:
    items: list[DueAccount]
    more: bool  # DynamoDB has more items in range after this page
    scanned: int  # items DynamoDB read for this page (what the sweep pays for)


def _aws_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def _conditional_failed(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and _aws_code(exc) == "ConditionalCheckFailedException"


class RefreshStore:
    """Accounts-table operations of the refresh sweep and the refresh lease."""

    def __init__(self, table_name: str | None = None, *, client: Any = None) -> None:
        self._table_name = table_name
        self._client = client

    @property
    def table(self) -> str:
        if self._table_name is None:
            from tiktok_publisher.config import get_settings

            self._table_name = str(get_settings().require("accounts_table"))
        return self._table_name

    @property
    def _ddb(self) -> Any:
        # Looked up per call: the cached client is replaced when tests switch endpoints.
        return self._client if self._client is not None else aws.client("dynamodb")

    # ------------------------------------------------------------------ the index

    def due_page(self, cursor: ShardCursor, *, before: int, limit: int) -> DuePage:
        """Up to `limit` active accounts of the shard with refresh_due_at < before, after the cursor."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": REFRESH_DUE_INDEX,
            "KeyConditionExpression": "#shard = :shard AND #due < :before",
            "ProjectionExpression": "#t, #o, #due, #v",
            "ExpressionAttributeNames": {
                "#shard": "refresh_shard",
                "#due": "refresh_due_at",
                "#t": "tenant_id",
                "#o": "open_id",
                "#v": "version",
            },
            "ExpressionAttributeValues": {":shard": {"S": cursor.shard}, ":before": {"N": str(int(before))}},
            "Limit": max(1, int(limit)),
        }
        if cursor.after is not None:
            due_at, tenant_id, open_id = cursor.after
            request["ExclusiveStartKey"] = {
                "refresh_shard": {"S": cursor.shard},
                "refresh_due_at": {"N": str(int(due_at))},
                "tenant_id": {"S": tenant_id},
                "open_id": {"S": open_id},
            }
        try:
            answer = self._ddb.query(**request)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"storage failed during query refresh_due ({_aws_code(exc)})") from None
        items = [
            DueAccount(
                tenant_id=item["tenant_id"]["S"],
                open_id=item["open_id"]["S"],
                refresh_due_at=int(item["refresh_due_at"]["N"]),
                version=int(item.get("version", {}).get("N", "0")),
            )
            for item in answer.get("Items", [])
        ]
        return DuePage(
            items, bool(answer.get("LastEvaluatedKey")), int(answer.get("ScannedCount", len(items)))
        )

    # ------------------------------------------------------------------ the lease

    def acquire_lease(
        self, tenant_id: str, open_id: str, *, version: int, owner: str, now: int, ttl: int
    ) -> bool:
        """Take the account for one refresh if it is still active at `version` and nobody holds it."""
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key=_key(tenant_id, open_id),
                UpdateExpression="SET #lo = :owner, #lu = :until, #lv = :v",
                ConditionExpression=(
                    "attribute_exists(#t) AND #v = :v AND #st = :active"
                    " AND (attribute_not_exists(#lu) OR #lu < :now OR #lv <> :v)"
                ),
                ExpressionAttributeNames={
                    "#t": "tenant_id",
                    "#v": "version",
                    "#st": "status",
                    "#lo": "refresh_lease_owner",
                    "#lu": "refresh_lease_until",
                    "#lv": "refresh_lease_version",
                },
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":until": {"N": str(int(now) + int(ttl))},
                    ":v": {"N": str(int(version))},
                    ":now": {"N": str(int(now))},
                    ":active": {"S": _ACTIVE},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            if _conditional_failed(exc):
                return False
            raise StoreError(f"storage failed during acquire refresh lease ({_aws_code(exc)})") from None
        return True

    def release_lease(self, tenant_id: str, open_id: str, *, owner: str) -> None:
        """Give the account back early (best effort: an expired lease frees itself anyway)."""
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key=_key(tenant_id, open_id),
                UpdateExpression="REMOVE #lo, #lu, #lv",
                ConditionExpression="#lo = :owner",
                ExpressionAttributeNames={
                    "#lo": "refresh_lease_owner",
                    "#lu": "refresh_lease_until",
                    "#lv": "refresh_lease_version",
                },
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except (ClientError, BotoCoreError):
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
        names = {
            "#t": "tenant_id",
            "#v": "version",
            "#st": "status",
            "#err": "last_error",
            "#upd": "updated_at",
            "#from": "reconnect_from_version",
            "#shard": "refresh_shard",
            "#due": "refresh_due_at",
            "#lo": "refresh_lease_owner",
            "#lu": "refresh_lease_until",
            "#lv": "refresh_lease_version",
        }
        values: dict[str, Any] = {
            ":nr": {"S": AccountStatus.NEEDS_RECONNECT.value},
            ":reason": {"S": reason[:500]},
            ":at": {"S": iso(int(now))},
            ":one": {"N": "1"},
            ":v": {"N": str(int(expected_version))},
        }
        condition = "attribute_exists(#t) AND #v = :v"
        if lease_owner is not None:
            condition += " AND #lo = :owner AND #lv = :v"
            values[":owner"] = {"S": lease_owner}
        else:
            condition += " AND (attribute_not_exists(#lu) OR #lu < :lease_now OR #lv <> :v)"
            values[":lease_now"] = {"N": str(int(lease_now))}
        try:
            self._ddb.update_item(
                TableName=self.table,
                Key=_key(tenant_id, open_id),
                UpdateExpression=(
                    "SET #st = :nr, #err = :reason, #upd = :at, #from = :v ADD #v :one"
                    " REMOVE #shard, #due, #lo, #lu, #lv"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except (ClientError, BotoCoreError) as exc:
            if _conditional_failed(exc):
                return False
            raise StoreError(f"storage failed during mark needs_reconnect ({_aws_code(exc)})") from None
        return True

    def lease_of(self, tenant_id: str, open_id: str) -> Mapping[str, Any] | None:
        """The raw lease attributes (tests and diagnostics)."""
        answer = self._ddb.get_item(
            TableName=self.table,
            Key=_key(tenant_id, open_id),
            ConsistentRead=True,
            ProjectionExpression="#lo, #lu, #lv",
            ExpressionAttributeNames={
                "#lo": "refresh_lease_owner",
                "#lu": "refresh_lease_until",
                "#lv": "refresh_lease_version",
            },
        )
        item = answer.get("Item")
        return dict(item) if item else None


def _key(tenant_id: str, open_id: str) -> dict[str, Any]:
    return {"tenant_id": {"S": tenant_id}, "open_id": {"S": open_id}}
