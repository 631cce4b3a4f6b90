"""The ports the features talk through: one Protocol per outside capability, declared once.

Features (publishing/, connect/, accounts/, refresh/, dispatch/, webhooks/) type their collaborators with
these and never import an adapter; adapters/ implement them; bootstrap.py wires one to the other. Tests swap
any of them for a fake that behaves (moto, the emulator) or a small in-memory class.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from tiktok_publisher.domain.accounts import Account, Credentials
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import ObjectInfo
from tiktok_publisher.domain.outbound import Delivery, DeliveryMessage, Endpoint, TransportResult
from tiktok_publisher.domain.posts import Post
from tiktok_publisher.domain.refresh import DuePage, ShardCursor
from tiktok_publisher.domain.sessions import OAuthSession
from tiktok_publisher.domain.ssrf import WebhookUrl
from tiktok_publisher.domain.tiktok import (
    ChunkResult,
    CreatorInfo,
    InitResult,
    PublishStatus,
    TokenSet,
    UserInfo,
)

# ---------------------------------------------------------------------- DynamoDB tables


class Accounts(Protocol):
    """The Accounts table (adapters/accounts_table.py): every read and write keyed by the tenant."""

    def get(self, tenant_id: str, open_id: str) -> Account: ...

    def list(self, tenant_id: str) -> Sequence[Account]: ...

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials: ...

    def find_by_open_id(self, open_id: str) -> Sequence[Account]: ...

    def save_connection(
        self, tenant_id: str, open_id: str, profile: UserInfo, tokens: TokenSet, *, now: int
    ) -> Account: ...

    def save_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, expected_version: int, now: int
    ) -> bool: ...

    def restore_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, marked_from_version: int, now: int
    ) -> Account | None:
        """Save tokens TikTok just issued over a needs_reconnect mark made from the same version."""
        ...

    def mark_revoked(
        self, tenant_id: str, open_id: str, reason: str | None = ..., *, now: int | None = ...
    ) -> Account: ...


class RefreshLeases(Protocol):
    """The refresh's per-account lease and its fenced needs_reconnect mark (adapters/accounts_table.py)."""

    def acquire_lease(
        self, tenant_id: str, open_id: str, *, version: int, owner: str, now: int, ttl: int
    ) -> bool: ...

    def release_lease(self, tenant_id: str, open_id: str, *, owner: str) -> None: ...

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
    ) -> bool: ...


class RefreshDueIndex(Protocol):
    """The sparse refresh_due index of the Accounts table: one page of due accounts after a cursor."""

    def due_page(self, cursor: ShardCursor, *, before: int, limit: int) -> DuePage: ...


class Posts(Protocol):
    """The Posts table (adapters/posts_table.py): each state change is one conditional write."""

    def create(self, post: Post, *, now: float) -> Post: ...

    def get(self, tenant_id: str, post_id: str) -> Post: ...

    def list_for_account(
        self, tenant_id: str, open_id: str, *, limit: int = ..., cursor: str | None = ...
    ) -> tuple[list[Post], str | None]: ...

    def find_by_upload_id(self, upload_id: str) -> list[Post]: ...

    def find_by_publish_id(self, publish_id: str) -> list[Post]: ...

    def update(
        self,
        post: Post,
        *,
        now: float,
        status: str | None = ...,
        expect_status: Iterable[str] | None = ...,
        expect: dict[str, Any] | None = ...,
        set_fields: dict[str, Any] | None = ...,
        remove: Sequence[str] = ...,
        note: str | None = ...,
    ) -> Post | None:
        """The post as stored after the change, or None when a condition no longer held."""
        ...


class ScheduledPosts(Protocol):
    """The sparse scheduled_due index of the Posts table."""

    def due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Post], dict[str, Any] | None]: ...


class OAuthSessions(Protocol):
    """The OAuthSessions table: a pending connect, consumed exactly once."""

    def create(self, session: OAuthSession) -> None: ...

    def consume(self, state_id: str) -> OAuthSession: ...


# ---------------------------------------------------------------------- TikTok


class TikTokAuth(Protocol):
    """TikTok's OAuth v2 endpoints and user info (adapters/tiktok_client.py)."""

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet: ...

    def refresh(self, refresh_token: str) -> TokenSet: ...

    def revoke(self, access_token: str) -> None: ...

    def user_info(self, access_token: str, fields: Sequence[str]) -> UserInfo: ...


class TikTokContent(Protocol):
    """TikTok's Content Posting API (adapters/tiktok_client.py)."""

    def creator_info(self, access_token: str) -> CreatorInfo: ...

    def init_video(
        self,
        access_token: str,
        *,
        inbox: bool,
        post_info: Mapping[str, Any] | None,
        source_info: Mapping[str, Any],
    ) -> InitResult: ...

    def init_photo(self, access_token: str, *, body: Mapping[str, Any]) -> InitResult: ...

    def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus: ...

    def cancel(self, access_token: str, publish_id: str) -> None: ...

    def upload_chunk(
        self,
        upload_url: str,
        data: Iterable[bytes] | bytes,
        *,
        first: int,
        last: int,
        total: int,
        content_type: str,
    ) -> ChunkResult: ...


class TikTok(TikTokAuth, TikTokContent, Protocol):
    """All of TikTok, for features that both revoke and post (one TikTokClient implements it)."""


class Tokens(Protocol):
    """Live access tokens for TikTok calls: the one refresh path (refresh.TokenRefresher), with its lease and
    its re-read after a lost race (DESIGN.md §6)."""

    def ensure_fresh_token(self, tenant_id: str, open_id: str, *, now: int) -> str:
        """A live access token, refreshed first when due. Raises AccountNeedsReconnect (grant dead or
        account not active), NotFound (no tokens) or UpstreamError (TikTok unreachable)."""
        ...

    def mark_token_dead(
        self, tenant_id: str, open_id: str, access_token: str, *, code: str, log_id: str | None, now: int
    ) -> bool:
        """TikTok refused `access_token`: needs_reconnect + event, only if the row still holds that token at
        the version read (never overrules a refresh or reconnect). False: the tokens were replaced since."""
        ...


# ---------------------------------------------------------------------- queue, bus, media


class JobQueue(Protocol):
    """The publish queue (adapters/sqs.py); `delay` is how the worker waits without sleeping."""

    def send(self, job: Job, *, delay: float = 0) -> None: ...


class Events(Protocol):
    """Domain events out to the SaaS on the project's bus (adapters/eventbridge.py)."""

    def publish(self, detail_type: str, detail: Mapping[str, Any], *, tenant_id: str) -> None: ...


class RangeReader(Protocol):
    """Random access to a file of known size (the media probe's input). `read` may return fewer bytes only
    at the end of the file."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...


class ByteStream(Protocol):
    """An open streaming read (an S3 GetObject body)."""

    def read(self, amt: int | None = ...) -> bytes: ...

    def close(self) -> None: ...


class MediaStore(Protocol):
    """Media objects of the bucket (adapters/s3_media.py): lookups, ranged reads, presigned uploads."""

    @property
    def bucket(self) -> str: ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def first_under(self, prefix: str) -> ObjectInfo | None: ...

    def reader(self, info: ObjectInfo) -> RangeReader: ...

    def iter_range(self, key: str, first: int, last: int) -> Iterator[bytes]: ...

    def open_from(self, key: str, first: int) -> ByteStream:
        """A streaming body of `key` from byte `first`."""
        ...

    def presign_put(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...


class PullUrls(Protocol):
    """URLs TikTok can pull our media from (PULL_FROM_URL on the verified domain), when configured."""

    @property
    def enabled(self) -> bool: ...

    def url_for(self, key: str, *, now: float) -> str: ...


class SweepHandOff(Protocol):
    """Hands a refresh sweep's unfinished shards to other invocations (adapters/sweep_handoff.py)."""

    def hand_on(self, cursors: Sequence[ShardCursor], *, horizon: int, hop: int) -> int:
        """Send one continuation per cursor; how many were sent, or HandOffError."""
        ...


# ---------------------------------------------------------------------- webhooks to the SaaS (outbound/)


class WebhookEndpoints(Protocol):
    """The WebhookEndpoints table (adapters/webhooks_table.py): keyed by tenant, NotFound across tenants."""

    def create(self, endpoint: Endpoint) -> None: ...

    def get(self, tenant_id: str, endpoint_id: str) -> Endpoint: ...

    def list(self, tenant_id: str) -> Sequence[Endpoint]: ...

    def delete(self, tenant_id: str, endpoint_id: str) -> None: ...

    def save(self, endpoint: Endpoint, *, expected_version: int) -> Endpoint | None:
        """Write every mutable field if the row is still at `expected_version`; the stored endpoint (version
        bumped), or None when someone else changed it first."""
        ...


class WebhookDeliveries(Protocol):
    """The WebhookDeliveries table: one row per message and endpoint, with its attempts (TTL-bounded)."""

    def create(self, delivery: Delivery) -> bool:
        """False when that message already had a row for that endpoint (a redelivered bus event)."""
        ...

    def get(self, tenant_id: str, endpoint_id: str, message_id: str) -> Delivery: ...

    def page(
        self, tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        """Newest first; the cursor is opaque and valid for this endpoint only."""
        ...

    def save(self, delivery: Delivery, *, expected_attempts: int, expected_cycle: int) -> bool:
        """Write the delivery's state if nobody attempted or replayed it since it was read."""
        ...


class WebhookQueue(Protocol):
    """The FIFO delivery queue (adapters/sqs.py): one ordered lane per endpoint and post/account."""

    def send(self, message: DeliveryMessage, *, group_id: str) -> None: ...


class SecretBox(Protocol):
    """Webhook signing secrets sealed with the KMS envelope (TokenCipher), bound to tenant and endpoint."""

    def seal(self, secret: str, *, tenant_id: str, endpoint_id: str) -> bytes: ...

    def open(self, blob: bytes, *, tenant_id: str, endpoint_id: str) -> str: ...


class WebhookTransport(Protocol):
    """DNS and HTTP for webhooks (adapters/webhook_http.py): resolve once, then connect to that address."""

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to (empty when it does not)."""
        ...

    def post(self, url: WebhookUrl, address: str, headers: Mapping[str, str], body: bytes) -> TransportResult:
        """POST `body` to `address` (never re-resolving), no redirects, bounded time and response size."""
        ...
