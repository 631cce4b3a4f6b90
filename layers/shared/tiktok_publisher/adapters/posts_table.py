"""PostRepository: the Posts table behind a small interface of conditional state changes.

Every change of a post's state is ONE conditional UpdateItem: the condition states what must still be true
(status, publish_id, the init marker), so two workers racing on the same post cannot both win a step and a
stale SQS message cannot move a post backwards. Callers get None when the condition no longer holds and
re-read to see why.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from tiktok_publisher.adapters.dynamodb import PostModel, StoreError, due_page
from tiktok_publisher.domain.errors import InvalidInput, NotFound
from tiktok_publisher.domain.metrics import may_have_public_video, metrics_shard_for
from tiktok_publisher.domain.posts import ABSENT, HISTORY_LIMIT, Post, PostStatus, iso_now
from tiktok_publisher.domain.schedule import schedule_shard_for

MAX_PAGE = 100


def _plain(value: Any) -> Any:
    """PynamoDB raw maps come back as MapAttribute objects and Decimals as numbers: make them plain JSON."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _stored(value: Any) -> Any:
    """What DynamoDB stores: enums (PostStatus...) by their value, containers recursively. PynamoDB's raw
    map and list attributes only serialize plain types."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    return value


def _to_post(item: PostModel) -> Post:
    return Post(
        tenant_id=item.tenant_id,
        post_id=item.post_id,
        open_id=item.open_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
        mode=item.mode or "direct",
        media=item.media or "video",
        status=PostStatus(item.status or PostStatus.QUEUED),
        source=_plain(item.source) or {},
        post_info=_plain(item.post_info) or {},
        idempotency_key=item.idempotency_key,
        upload_id=item.upload_id,
        publish_id=item.publish_id,
        transfer=item.transfer,
        upload_progress=_plain(item.upload_progress) or {},
        fail_reason=_plain(item.fail_reason),
        post_ids=[str(x) for x in item.post_ids or []],
        history=_plain(item.history) or [],
        attempts=int(item.attempts or 0),
        version=int(item.version or 0),
        init_started_at=int(item.init_started_at) if item.init_started_at is not None else None,
        init_token=item.init_token,
        status_deadline=int(item.status_deadline) if item.status_deadline is not None else None,
        reconcile_until=int(item.reconcile_until) if item.reconcile_until is not None else None,
        publish_at=int(item.publish_at) if item.publish_at is not None else None,
        past_attempts=_plain(item.past_attempts) or [],
        metrics=_plain(item.metrics),
        metrics_next_at=_int_or_none(item.metrics_next_at),
        metrics_since=_int_or_none(item.metrics_since),
        metrics_tracked=item.metrics_shard is not None,
    )


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def _conditional_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


class PostRepository:
    """CRUD and conditional state transitions of posts, always keyed by the caller's tenant.

    `retention_days` (POST_RETENTION_DAYS) stamps each new post with its DynamoDB TTL, `purge_at`.

    `track_metrics` (the operator enabled metrics): a post that becomes published, or gets its TikTok video
    ids, joins the sparse metrics_due index in the same conditional write, so the snapshot schedule finds it
    without reading anything else (domain/metrics.py).
    """

    def __init__(self, *, retention_days: int | None = None, track_metrics: bool = False) -> None:
        self.retention_days = retention_days
        self.track_metrics = track_metrics

    def create(self, post: Post, *, now: float) -> Post:
        """Insert a new post (its post_id must be fresh: a ULID)."""
        stamp = iso_now(now)
        post.updated_at = stamp
        post.history = [{"at": stamp, "status": str(post.status), "note": "created"}]
        item = PostModel(
            post.tenant_id,
            post.post_id,
            open_id=post.open_id,
            account_key=f"{post.tenant_id}#{post.open_id}",
            created_at=post.created_at,
            updated_at=stamp,
            mode=post.mode,
            media=post.media,
            status=_stored(post.status),
            source=post.source,
            post_info=post.post_info,
            idempotency_key=post.idempotency_key,
            upload_id=post.upload_id,
            history=post.history,
            attempts=0,
            version=1,
            post_ids=[],
            publish_at=post.publish_at,
            # Sparse scheduled_due index: only scheduled posts carry a shard (publishing/schedule.py).
            schedule_shard=schedule_shard_for(post.tenant_id, post.post_id)
            if post.status == PostStatus.SCHEDULED
            else None,
            purge_at=int(now) + self.retention_days * 86400 if self.retention_days else None,
        )
        try:
            item.save(condition=PostModel.post_id.does_not_exist())
        except PutError as exc:
            if _conditional_failed(exc):
                raise InvalidInput("post id collision") from None
            raise
        post.version = 1
        return post

    def get(self, tenant_id: str, post_id: str) -> Post:
        """The post, or NotFound (also for another tenant's post_id: the key includes the tenant)."""
        try:
            return _to_post(PostModel.get(tenant_id, post_id, consistent_read=True))
        except DoesNotExist:
            raise NotFound("No such post.") from None

    def list_for_account(
        self, tenant_id: str, open_id: str, *, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[Post], str | None]:
        """One page of an account's posts, newest first, and the opaque cursor of the next page (or None)."""
        account_key = f"{tenant_id}#{open_id}"
        start = _decode_cursor(cursor, account_key) if cursor else None
        result = PostModel.by_account.query(
            account_key,
            scan_index_forward=False,
            limit=max(1, min(limit, MAX_PAGE)),
            last_evaluated_key=start,
        )
        posts = [_to_post(item) for item in result]
        last = result.last_evaluated_key
        return posts, _encode_cursor(last) if last else None

    def delete_for_account(self, tenant_id: str, open_id: str) -> int:
        """Delete every post of one account of the tenant (data deletion); how many were deleted.

        The by_account index is keyed `tenant#open_id`, and each delete names (tenant_id, post_id), so nothing
        of another tenant can be reached. Safe to repeat: a second call finds nothing.
        """
        deleted = 0
        try:
            keys = [
                (item.tenant_id, item.post_id)
                for item in PostModel.by_account.query(
                    f"{tenant_id}#{open_id}", attributes_to_get=["tenant_id", "post_id"]
                )
            ]
            with PostModel.batch_write() as batch:
                for item_tenant, post_id in keys:
                    if (
                        item_tenant != tenant_id
                    ):  # the index key says it cannot happen; never trust it blindly
                        continue
                    batch.delete(PostModel(item_tenant, post_id))
                    deleted += 1
        except PynamoDBException as exc:
            raise StoreError.wrap("delete posts", exc) from None
        return deleted

    def find_by_upload_id(self, upload_id: str) -> list[Post]:
        """Posts waiting for (or made from) one upload (the s3_upload trigger's entry point)."""
        return [_to_post(item) for item in PostModel.by_upload_id.query(upload_id)]

    def due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Post], dict[str, Any] | None]:
        """Scheduled posts of `shard` with publish_at <= now (the sparse scheduled_due index), and the key to
        continue from (None: no more)."""
        items, following = due_page(
            PostModel.scheduled_due, shard, PostModel.publish_at <= now,
            limit=limit, start=start, what="query scheduled_due",
        )  # fmt: skip
        return [_to_post(item) for item in items], following

    def find_by_publish_id(self, publish_id: str) -> list[Post]:
        """Posts carrying TikTok's publish_id (webhooks)."""
        return [_to_post(item) for item in PostModel.by_publish_id.query(publish_id)]

    def update(
        self,
        post: Post,
        *,
        now: float,
        status: str | None = None,
        expect_status: Iterable[str] | None = None,
        expect: dict[str, Any] | None = None,
        set_fields: dict[str, Any] | None = None,
        remove: Sequence[str] = (),
        note: str | None = None,
    ) -> Post | None:
        """One conditional change. `expect` maps attribute -> required value (ABSENT: must not exist).

        Returns the post as stored after the change, or None when a condition no longer held.
        """
        stamp = iso_now(now)
        actions: list[Action] = [PostModel.updated_at.set(stamp), PostModel.version.add(1)]
        for name, value in (set_fields or {}).items():
            attribute = getattr(PostModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(_stored(value)))
        actions.extend(getattr(PostModel, name).remove() for name in remove)
        if status is not None or note is not None:
            entry = {"at": stamp, "status": _stored(status or post.status), "note": note or ""}
            history = [*post.history, entry][-HISTORY_LIMIT:]
            actions.append(PostModel.history.set(history))
        if status is not None:
            actions.append(PostModel.status.set(_stored(status)))
        actions.extend(self._metrics_tracking(post, status, set_fields or {}, now))
        condition: Condition = PostModel.post_id.exists()
        if expect_status is not None:
            condition &= PostModel.status.is_in(*_stored(list(expect_status)))
        for name, value in (expect or {}).items():
            attribute = getattr(PostModel, name)
            condition &= attribute.does_not_exist() if value is ABSENT else attribute == _stored(value)
        item = PostModel(post.tenant_id, post.post_id)
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return _to_post(item)

    # ------------------------------------------------------------------ after the post (metrics)

    def _metrics_tracking(
        self, post: Post, status: str | None, fields: dict[str, Any], now: float
    ) -> list[Action]:
        """Index actions for a post that becomes published or gets video ids (see the class docstring). A
        reading already claimed keeps its time: `metrics_next_at` is only set when absent."""
        ids = fields.get("post_ids") or []
        if not self.track_metrics or not (status == PostStatus.PUBLISHED or ids):
            return []
        if not may_have_public_video(post.mode, post.post_info, ids or post.post_ids):
            return []
        m = PostModel
        stamp = int(now)
        return [
            m.metrics_shard.set(metrics_shard_for(post.tenant_id, post.post_id)),
            m.metrics_next_at.set(m.metrics_next_at | stamp),
            m.metrics_since.set(m.metrics_since | stamp),
        ]

    def claim_metrics_read(self, post: Post, *, next_at: int) -> bool:
        """Move `metrics_next_at` from the value read to `next_at`; False when another reader moved it first.
        The post's state (`version`, `updated_at`) is not touched: metrics are beside it."""
        m = PostModel
        condition: Condition = m.post_id.exists() & _same(m.metrics_next_at, post.metrics_next_at)
        return self._metrics_write(post, [m.metrics_next_at.set(int(next_at))], condition, "claim metrics")

    def release_metrics_claim(self, post: Post, *, claimed_next_at: int) -> None:
        """Put `metrics_next_at` back to the value read, if it is still our claim."""
        m = PostModel
        back = (
            m.metrics_next_at.remove()
            if post.metrics_next_at is None
            else m.metrics_next_at.set(int(post.metrics_next_at))
        )
        condition = m.post_id.exists() & (m.metrics_next_at == int(claimed_next_at))
        self._metrics_write(post, [back], condition, "release metrics claim")

    def save_metrics(
        self, post: Post, reading: dict[str, Any] | None, *, post_ids: Sequence[str] | None, now: float
    ) -> None:
        """Store the latest reading and/or the video ids TikTok gave the post (ids only ever added)."""
        m = PostModel
        actions: list[Action] = []
        if reading is not None:
            actions.append(m.metrics.set(_stored(dict(reading))))
        if post_ids:
            ids = list(dict.fromkeys([*post.post_ids, *(str(i) for i in post_ids)]))
            actions.append(m.post_ids.set(ids))
            actions.extend(self._metrics_tracking(post, None, {"post_ids": ids}, now))
        if actions:
            self._metrics_write(post, actions, m.post_id.exists(), "save metrics")

    def untrack_metrics(self, post: Post, *, now: float) -> None:
        """The post leaves the metrics_due index (the schedule stops following it)."""
        del now  # the post's state does not change: nothing is stamped
        self._metrics_write(post, [PostModel.metrics_shard.remove()], PostModel.post_id.exists(), "untrack")

    def metrics_due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Post], dict[str, Any] | None]:
        """Tracked posts of `shard` whose metrics_next_at <= now, and the key to continue from (or None)."""
        items, following = due_page(
            PostModel.metrics_due, shard, PostModel.metrics_next_at <= now,
            limit=limit, start=start, what="query metrics_due",
        )  # fmt: skip
        return [_to_post(item) for item in items], following

    @staticmethod
    def _metrics_write(post: Post, actions: list[Action], condition: Condition, what: str) -> bool:
        try:
            PostModel(post.tenant_id, post.post_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise StoreError.wrap(what, exc) from None
        return True


def _same(attribute: Any, value: int | None) -> Condition:
    """The attribute still holds the value read (absent when None)."""
    return attribute.does_not_exist() if value is None else attribute == int(value)


def _encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, account_key: str) -> dict[str, Any]:
    """Decode and check a cursor: it must come from a page of the same account (else 422)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        owner = key["account_key"]["S"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _bad_cursor() from None
    if (
        not isinstance(key, dict)
        or owner != account_key
        or set(key)
        - {
            "account_key",
            "created_at",
            "tenant_id",
            "post_id",
        }
    ):
        raise _bad_cursor()
    if key.get("tenant_id", {}).get("S") != account_key.split("#", 1)[0]:
        raise _bad_cursor()
    return key


def _bad_cursor() -> InvalidInput:
    message = "The cursor is not valid for this listing; start again without it."
    return InvalidInput(
        f"The request has invalid fields: query.cursor. {message}",
        details={"fields": [{"path": "query.cursor", "type": "invalid_cursor", "message": message}]},
    )
