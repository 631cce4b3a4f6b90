"""The ports the features talk through: one Protocol per outside capability, declared once.

Features (publishing/, connect/, accounts/, refresh/, dispatch/, webhooks/) type their collaborators with
these and never import an adapter; adapters/ implement them; bootstrap.py wires one to the other. Tests swap
any of them for a fake that behaves (moto, the emulator) or a small in-memory class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from tiktok_publisher.domain.accounts import Account, Credentials
from tiktok_publisher.domain.deployment import Deployment, WebAnswer
from tiktok_publisher.domain.erasure import ErasureReceipt, ErasureTrigger
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.limits import RateDecision
from tiktok_publisher.domain.media import MediaPin, ObjectInfo
from tiktok_publisher.domain.metrics import HistoryPoint
from tiktok_publisher.domain.outbound import Delivery, DeliveryMessage, Endpoint, TransportResult
from tiktok_publisher.domain.posts import Post
from tiktok_publisher.domain.refresh import DuePage, KeysPage, RefreshKeys, ShardCursor
from tiktok_publisher.domain.sessions import OAuthSession
from tiktok_publisher.domain.ssrf import WebhookUrl
from tiktok_publisher.domain.tenants import TenantSettings
from tiktok_publisher.domain.tiktok import (
    ChunkResult,
    CreatorInfo,
    InitResult,
    PublishStatus,
    TokenSet,
    UserInfo,
    UserStats,
    VideoStats,
)

T = TypeVar("T")

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

    def delete(self, tenant_id: str, open_id: str) -> tuple[bool, bool]:
        """Delete the tenant's account row; (a row was deleted, it still held tokens). Idempotent."""
        ...


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


class RefreshKeysTable(Protocol):
    """Every account row's refresh keys, for the one-off backfill of refresh_due_at (refresh/backfill.py)."""

    def keys_page(
        self, start: dict[str, Any] | None, *, limit: int, segment: int = ..., segments: int = ...
    ) -> KeysPage: ...

    def set_refresh_due(self, keys: RefreshKeys, *, shard: str, due: int) -> bool:
        """Place the row, only if it is still as `keys` read it; False when it changed meanwhile."""
        ...


class FreshTokenNeeds(Protocol):
    """For a feature that will call TikTok for an account at a known time (metrics snapshots, say): the
    scheduled sweep then refreshes the account ahead of that time, when its access token would not last
    (adapters/accounts_table.py; docs/events.md "What the schedule does")."""

    def need_fresh_token_by(self, tenant_id: str, open_id: str, at: int, *, now: int) -> bool:
        """Record the need; False when the account is not active."""
        ...


class Posts(Protocol):
    """The Posts table (adapters/posts_table.py): each state change is one conditional write."""

    def create(self, post: Post, *, now: float) -> Post: ...

    def get(self, tenant_id: str, post_id: str) -> Post: ...

    def list_for_account(
        self, tenant_id: str, open_id: str, *, limit: int = ..., cursor: str | None = ...
    ) -> tuple[list[Post], str | None]: ...

    def find_by_upload_id(self, upload_id: str) -> list[Post]: ...

    def delete_for_account(self, tenant_id: str, open_id: str) -> int:
        """Delete every post of one account of the tenant; how many were deleted."""
        ...

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


class TenantSettingsStore(Protocol):
    """The Tenants table (adapters/tenants_table.py): one item of settings per tenant."""

    def get(self, tenant_id: str) -> TenantSettings:
        """The tenant's settings, or the defaults when it never set any."""
        ...

    def put(self, settings: TenantSettings, *, now: int) -> TenantSettings: ...


class PostMetrics(Protocol):
    """The metrics fields of the Posts table and its sparse metrics_due index (adapters/posts_table.py).

    A read from TikTok starts with a claim: `metrics_next_at` moves from the value read to `next_at` in one
    conditional write, so of any number of readers (schedule runs, API calls) one wins per interval.
    """

    def claim_metrics_read(self, post: Post, *, next_at: int) -> bool: ...

    def release_metrics_claim(self, post: Post, *, claimed_next_at: int) -> None:
        """Give a claim back (nothing was asked of TikTok): `metrics_next_at` returns to the value read."""
        ...

    def save_metrics(
        self, post: Post, reading: Mapping[str, Any] | None, *, post_ids: Sequence[str] | None, now: float
    ) -> None:
        """Store the latest reading and/or the video ids TikTok gave the post."""
        ...

    def untrack_metrics(self, post: Post, *, now: float) -> None:
        """The snapshot schedule stops following the post (it leaves the metrics_due index)."""
        ...

    def metrics_due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Post], dict[str, Any] | None]: ...


class AccountStats(Protocol):
    """The stats fields of the Accounts table and its sparse stats_due index (adapters/accounts_table.py);
    claims as in PostMetrics. Never touches tokens or `version`."""

    def claim_stats_read(self, account: Account, *, next_at: int) -> bool: ...

    def release_stats_claim(self, account: Account, *, claimed_next_at: int) -> None: ...

    def save_stats(self, account: Account, reading: Mapping[str, Any]) -> None: ...

    def untrack_stats(self, account: Account) -> None: ...

    def stats_due_page(
        self, shard: str, *, now: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Account], dict[str, Any] | None]: ...


class MetricsHistory(Protocol):
    """The MetricsHistory table (adapters/metrics_table.py): readings kept for charts until their TTL."""

    def add(self, points: Sequence[HistoryPoint]) -> None: ...

    def read(self, series: str, *, since: int, limit: int) -> tuple[list[HistoryPoint], int | None]:
        """Points of `series` from `since` on, oldest first, and where the next page starts (or None)."""
        ...


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


class TikTokDisplay(Protocol):
    """TikTok's reads after the post (adapters/tiktok_client.py): video query and user stats."""

    def query_videos(self, access_token: str, video_ids: Sequence[str]) -> list[VideoStats]:
        """Counts of up to 20 of the user's public videos; ids stay exact decimal text."""
        ...

    def user_stats(self, access_token: str) -> UserStats: ...


class TikTok(TikTokAuth, TikTokContent, Protocol):
    """All of TikTok, for features that both revoke and post (one TikTokClient implements it)."""


class Tokens(Protocol):
    """Live access tokens for TikTok calls: the one refresh path (refresh.TokenRefresher), with its lease and
    its re-read after a lost race (DESIGN.md §6)."""

    def ensure_fresh_token(self, tenant_id: str, open_id: str, *, now: int) -> str:
        """A live access token, refreshed first when due. Raises AccountNeedsReconnect (grant dead or
        account not active), NotFound (no tokens) or UpstreamError (TikTok unreachable)."""
        ...

    def replace_rejected_token(self, tenant_id: str, open_id: str, rejected_token: str, *, now: int) -> str:
        """TikTok answered `access_token_invalid` for `rejected_token` before its stated expiry: one forced
        refresh of exactly that token, shared by concurrent callers; a live token that is not it. Raises as
        ensure_fresh_token (AccountNeedsReconnect only when the refresh itself got invalid_grant)."""
        ...

    def call_with_token(self, tenant_id: str, open_id: str, call: Callable[[str], T], *, now: int) -> T:
        """`call(access_token)`; on `access_token_invalid`, once more after replace_rejected_token."""
        ...

    def mark_token_dead(
        self, tenant_id: str, open_id: str, access_token: str, *, code: str, log_id: str | None, now: int
    ) -> bool:
        """TikTok refused `access_token` for good (a missing scope, say): needs_reconnect + event, only if the
        row still holds that token at the version read (never overrules a refresh or reconnect). False: the
        tokens were replaced since. Never used for `access_token_invalid` (replace_rejected_token is)."""
        ...


class CallPacer(Protocol):
    """TikTok's per-token call limits, shared by every function (domain/pacing.py, adapters/pacing_table)."""

    def reserve(self, tenant_id: str, open_id: str, call: str, *, now: float) -> float:
        """Take one slot for a `call` (init, creator_info, status) of this account at `now`: 0.0 when taken,
        else the seconds to wait before asking again (nothing is taken then)."""
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

    def iter_range(
        self, key: str, first: int, last: int, piece: int = ..., *, pin: MediaPin | None = None
    ) -> Iterator[bytes]:
        """Bytes first..last of `key`; with `pin`, of that version only (MediaChanged otherwise)."""
        ...

    def open_from(self, key: str, first: int, *, pin: MediaPin | None = None) -> ByteStream:
        """A streaming body of `key` from byte `first`; with `pin`, of that version only (MediaChanged)."""
        ...

    def presign_put(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...

    def delete_under(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`; how many were deleted."""
        ...


class RateLimiter(Protocol):
    """Shared request windows (adapters/rate_limit_table.py)."""

    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> RateDecision:
        """Count one request under `key`; RateDecision.allowed False once `limit` were counted this window."""
        ...


class PullUrls(Protocol):
    """URLs TikTok can pull our media from (PULL_FROM_URL on the verified domain), when configured."""

    @property
    def enabled(self) -> bool: ...

    def url_for(self, key: str, *, now: float, pin: MediaPin | None = None) -> str: ...


class SweepHandOff(Protocol):
    """Hands a refresh sweep's unfinished shards to other invocations (adapters/sweep_handoff.py)."""

    def hand_on(self, cursors: Sequence[ShardCursor], *, horizon: int, hop: int) -> int:
        """Send one continuation per cursor; how many were sent, or HandOffError."""
        ...


# ---------------------------------------------------------------------- features offered to features


class AccountDataEraser(Protocol):
    """Deletes everything about one TikTok user in one tenant (accounts/erasure.py), for the webhook."""

    def erase(
        self, tenant_id: str, open_id: str, *, trigger: ErasureTrigger, revoke: bool
    ) -> ErasureReceipt: ...


# ---------------------------------------------------------------------- the operator's tools (golive/)


class Deployments(Protocol):
    """A deployed stack's parameters, outputs and resources (adapters/deployment.py)."""

    def describe(self) -> Deployment:
        """The target stack; OperatorError when it does not exist."""
        ...


class SecretDocuments(Protocol):
    """A JSON secret in Secrets Manager, read and written whole (adapters/deployment.py)."""

    def read(self, secret_id: str) -> dict[str, Any]: ...

    def write(self, secret_id: str, values: Mapping[str, Any]) -> None: ...


class WebProbe(Protocol):
    """GET a URL as TikTok would: no redirect followed, a bounded read (adapters/web_probe.py)."""

    def get(self, url: str, *, headers: Mapping[str, str] | None = ...) -> WebAnswer: ...


class ScheduleRules(Protocol):
    """EventBridge rules: whether each is enabled (adapters/deployment.py)."""

    def state(self, rule_name: str) -> str | None:
        """ENABLED, DISABLED, or None when there is no such rule."""
        ...


class UrlProperties(Protocol):
    """Which URL prefixes and domains TikTok counts as verified for the app (the local stack's emulator knows;
    TikTok itself has no API for it, so in AWS the portal's Verify button is the check)."""

    def verified(self, url: str) -> bool: ...


class MediaObjects(Protocol):
    """Objects written into the media bucket by the operator's tools (adapters/s3_media.py)."""

    @property
    def bucket(self) -> str: ...

    def put_object(self, key: str, body: bytes, *, content_type: str) -> None: ...

    def delete_object(self, key: str) -> None: ...


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
