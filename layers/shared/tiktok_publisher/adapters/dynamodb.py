"""PynamoDB models of every table; keys and indexes match template.yaml exactly (a test compares them).

Table names come from Settings (ACCOUNTS_TABLE, ...) and are read when a model first talks to DynamoDB, not
at import, so importing this module never fails and tests can point the models at new tables: call
`bind_models()` after changing the environment (it also drops the models' cached connections, which
PynamoDB would otherwise keep pointing at the old host).
"""

from __future__ import annotations

import threading
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from tiktok_publisher.adapters import aws
from tiktok_publisher.config import Settings, get_settings
from tiktok_publisher.domain.errors import DomainError


class StoreError(DomainError):
    """DynamoDB failed (throttled, unreachable, misconfigured). Repositories raise this instead of letting a
    PynamoDB/botocore exception reach a handler; the message names the operation and the AWS error code."""

    status_code = 503
    code = "store_unavailable"

    @classmethod
    def wrap(cls, operation: str, exc: Exception) -> StoreError:
        """A StoreError for `operation` failing with the PynamoDB exception `exc`."""
        aws_code = getattr(exc, "cause_response_code", None) or type(exc).__name__
        return cls(f"storage failed during {operation} ({aws_code})", details={"aws_code": aws_code})


def due_page(
    index: GlobalSecondaryIndex[Any],
    shard: str,
    condition: Any,
    *,
    limit: int,
    start: dict[str, Any] | None,
    what: str,
) -> tuple[list[Any], dict[str, Any] | None]:
    """One page of a sparse "due" index (scheduled_due, metrics_due, stats_due, ...): the items of `shard`
    matching the range `condition`, and the key to continue from (None: no more)."""
    try:
        result = index.query(shard, condition, limit=limit, last_evaluated_key=start, page_size=limit)
        items = list(result)
    except PynamoDBException as exc:
        raise StoreError.wrap(what, exc) from None
    return items, result.last_evaluated_key


def is_condition_failure(exc: Exception) -> bool:
    """True when a PynamoDB write failed only because its condition did not hold."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class _TableMeta(type):
    """Metaclass for the models' Meta: `table_name` is looked up in Settings on every access.

    PynamoDB compares `Meta.table_name` with its cached connection on each call and reconnects when it
    changed, so a late-bound name is all it takes for tests (and cold starts) to get the right table.
    """

    setting: str

    @property
    def table_name(cls) -> str:
        return str(get_settings().require(cls.setting))


def _meta(setting: str) -> type:
    return _TableMeta(
        "Meta",
        (),
        {
            "setting": setting,
            "region": aws.region(),
            "host": aws.endpoint_url(),
            "billing_mode": "PAY_PER_REQUEST",
            "connect_timeout_seconds": 2,
            "read_timeout_seconds": 10,
            "max_retry_attempts": 3,
        },
    )


# ------------------------------------------------------------------ Accounts


class AccountByOpenIdIndex(GlobalSecondaryIndex["AccountModel"]):
    """GSI by_open_id: one TikTok user across tenants (webhooks only)."""

    class Meta:
        index_name = "by_open_id"
        projection = AllProjection()

    open_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class AccountRefreshDueIndex(GlobalSecondaryIndex["AccountModel"]):
    """Sparse GSI refresh_due: only active accounts carry refresh_shard and refresh_due_at (when the schedule
    must refresh them: 30 days before the grant ends, or a feature's fresh_token_by; see
    domain.accounts.refresh_due_at_for)."""

    class Meta:
        index_name = "refresh_due"
        projection = AllProjection()

    refresh_shard = UnicodeAttribute(hash_key=True)
    refresh_due_at = NumberAttribute(range_key=True)


class AccountStatsDueIndex(GlobalSecondaryIndex["AccountModel"]):
    """Sparse GSI stats_due: only accounts the snapshot schedule follows carry stats_shard
    (domain/metrics.py); stats_next_at is when TikTok may be asked again."""

    class Meta:
        index_name = "stats_due"
        projection = AllProjection()

    stats_shard = UnicodeAttribute(hash_key=True)
    stats_next_at = NumberAttribute(range_key=True)


class AccountModel(Model):
    """A connected TikTok account of one tenant. Tokens are KMS envelope-encrypted blobs."""

    Meta = _meta("accounts_table")  # type: ignore[assignment]

    tenant_id = UnicodeAttribute(hash_key=True)
    open_id = UnicodeAttribute(range_key=True)
    display_name = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute(default="active")
    access_token_enc = BinaryAttribute(null=True, legacy_encoding=False)
    refresh_token_enc = BinaryAttribute(null=True, legacy_encoding=False)
    access_expires_at = NumberAttribute(default=0)
    refresh_expires_at = NumberAttribute(default=0)
    refresh_shard = UnicodeAttribute(null=True)
    refresh_due_at = NumberAttribute(null=True)
    version = NumberAttribute(default=0)
    connected_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    # Set by a dead-grant mark to the version it was made from: tokens TikTok issued to a refresher that
    # read that same version still win over the mark (refresh/core.py, docs/events.md).
    reconnect_from_version = NumberAttribute(null=True)
    # The refresh lease (adapters/accounts_table.py RefreshStore): valid only while refresh_lease_version is
    # the row's version and refresh_lease_until is ahead, so saving refreshed tokens (a version bump) ends it.
    refresh_lease_owner = UnicodeAttribute(null=True)
    refresh_lease_until = NumberAttribute(null=True)
    refresh_lease_version = NumberAttribute(null=True)
    # A feature's "live access token needed by" time (AccountRepository.need_fresh_token_by): pulls
    # refresh_due_at earlier when the access token will not last until then. Never bumps version.
    fresh_token_by = NumberAttribute(null=True)
    # After the post (adapters/accounts_table.py AccountStatsStore): the latest stats reading, the read claim,
    # and the shard that puts the account in the stats_due index. None of them touches `version`.
    stats = MapAttribute[str, Any](null=True)
    stats_next_at = NumberAttribute(null=True)
    stats_shard = UnicodeAttribute(null=True)

    by_open_id = AccountByOpenIdIndex()
    refresh_due = AccountRefreshDueIndex()
    stats_due = AccountStatsDueIndex()


# ------------------------------------------------------------------ Posts


class PostByPublishIdIndex(GlobalSecondaryIndex["PostModel"]):
    """GSI by_publish_id: webhooks and status polling find the post from TikTok's publish_id."""

    class Meta:
        index_name = "by_publish_id"
        projection = AllProjection()

    publish_id = UnicodeAttribute(hash_key=True)


class PostByAccountIndex(GlobalSecondaryIndex["PostModel"]):
    """GSI by_account: an account's posts by creation time (account_key = "{tenant_id}#{open_id}")."""

    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PostScheduledDueIndex(GlobalSecondaryIndex["PostModel"]):
    """Sparse GSI scheduled_due: only scheduled posts carry schedule_shard."""

    class Meta:
        index_name = "scheduled_due"
        projection = AllProjection()

    schedule_shard = UnicodeAttribute(hash_key=True)
    publish_at = NumberAttribute(range_key=True)


class PostByUploadIdIndex(GlobalSecondaryIndex["PostModel"]):
    """GSI by_upload_id: an S3 upload finds the post that waits for it."""

    class Meta:
        index_name = "by_upload_id"
        projection = AllProjection()

    upload_id = UnicodeAttribute(hash_key=True)


class PostMetricsDueIndex(GlobalSecondaryIndex["PostModel"]):
    """Sparse GSI metrics_due: only published posts the snapshot schedule follows carry metrics_shard;
    metrics_next_at is when TikTok may be asked again (domain/metrics.py)."""

    class Meta:
        index_name = "metrics_due"
        projection = AllProjection()

    metrics_shard = UnicodeAttribute(hash_key=True)
    metrics_next_at = NumberAttribute(range_key=True)


class PostModel(Model):
    """A post request and its journey to TikTok. Key attributes are fixed; the rest is the publishing
    area's to shape (the map attributes hold their structured parts)."""

    Meta = _meta("posts_table")  # type: ignore[assignment]

    tenant_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)
    open_id = UnicodeAttribute()
    account_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    mode = UnicodeAttribute(null=True)  # direct | inbox
    media = UnicodeAttribute(null=True)  # video | photo
    status = UnicodeAttribute(null=True)
    source = MapAttribute[str, Any](null=True)
    post_info = MapAttribute[str, Any](null=True)
    idempotency_key = UnicodeAttribute(null=True)
    publish_id = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute(null=True)
    transfer = UnicodeAttribute(null=True)  # pull | upload
    upload_progress = MapAttribute[str, Any](null=True)
    schedule_shard = UnicodeAttribute(null=True)
    publish_at = NumberAttribute(null=True)
    fail_reason = MapAttribute[str, Any](null=True)
    post_ids = ListAttribute(of=UnicodeAttribute, null=True)
    history = ListAttribute[Any](null=True)  # list of maps
    attempts = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    # Publishing worker markers (store/posts.py): init_started_at/init_token are written BEFORE TikTok's init
    # is called, so a worker that dies before saving publish_id never calls init again for that post.
    init_started_at = NumberAttribute(null=True)
    init_token = UnicodeAttribute(null=True)
    status_deadline = NumberAttribute(null=True)  # epoch s after which polling stops: `unconfirmed`
    reconcile_until = NumberAttribute(null=True)  # epoch s after which an `unconfirmed` post is left alone
    # DynamoDB TTL (template.yaml): the post's history is deleted POST_RETENTION_DAYS after its creation.
    purge_at = NumberAttribute(null=True)
    past_attempts = ListAttribute[Any](null=True)  # attempts ended by a retry (list of maps), oldest first
    # After the post (adapters/posts_table.py): the latest reading, the read claim, since when the schedule
    # follows the post, and the shard that puts it in the metrics_due index.
    metrics = MapAttribute[str, Any](null=True)
    metrics_next_at = NumberAttribute(null=True)
    metrics_since = NumberAttribute(null=True)
    metrics_shard = UnicodeAttribute(null=True)

    by_publish_id = PostByPublishIdIndex()
    by_account = PostByAccountIndex()
    scheduled_due = PostScheduledDueIndex()
    by_upload_id = PostByUploadIdIndex()
    metrics_due = PostMetricsDueIndex()


# ------------------------------------------------------------------ OAuth sessions


class OAuthSessionModel(Model):
    """A pending OAuth connect: consumed exactly once by the callback; DynamoDB TTL on expires_at."""

    Meta = _meta("oauth_sessions_table")  # type: ignore[assignment]

    state_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    code_verifier = UnicodeAttribute(null=True)
    return_to = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = NumberAttribute()
    expires_at = NumberAttribute()


class RateLimitModel(Model):
    """A tenant's count of one action in one fixed window (adapters/rate_limit_table.py); TTL expires_at."""

    Meta = _meta("rate_limits_table")  # type: ignore[assignment]

    key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{action}#{window_start}"
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute()


# ------------------------------------------------------------------ Tenants


class TenantModel(Model):
    """One tenant's settings (domain/tenants.py)."""

    Meta = _meta("tenants_table")  # type: ignore[assignment]

    tenant_id = UnicodeAttribute(hash_key=True)
    on_authorization_removed = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


# ------------------------------------------------------------------ TikTok call pacing


class PacingModel(Model):
    """One account's recent calls of one kind to TikTok (domain/pacing.py): a window log shared by every
    function. Each change is a put conditional on `version`; DynamoDB TTL drops logs idle for minutes."""

    Meta = _meta("pacing_table")  # type: ignore[assignment]

    key = UnicodeAttribute(hash_key=True)  # tenant_id#open_id#call
    times = ListAttribute(of=NumberAttribute, default=list)
    queued_until = NumberAttribute(null=True)  # the end of the queue of callers told to wait (their turns)
    version = NumberAttribute(default=0)
    expires_at = NumberAttribute()


# ------------------------------------------------------------------ Metrics history


class MetricsHistoryModel(Model):
    """One reading of a post's or an account's counts, kept for charts until DynamoDB's TTL on expires_at.
    `series` is "{tenant_id}#post#{post_id}" or "{tenant_id}#account#{open_id}" (domain/metrics.py)."""

    Meta = _meta("metrics_table")  # type: ignore[assignment]

    series = UnicodeAttribute(hash_key=True)
    at = NumberAttribute(range_key=True)
    counts = MapAttribute[str, Any]()
    expires_at = NumberAttribute()


# ------------------------------------------------------------------ Webhooks to the SaaS


class WebhookEndpointModel(Model):
    """A tenant's webhook endpoint; the signing secret (and the previous one, during rotation) sealed."""

    Meta = _meta("webhook_endpoints_table")  # type: ignore[assignment]

    tenant_id = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    event_types = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute(default="enabled")
    secret_enc = BinaryAttribute(legacy_encoding=False)
    previous_secret_enc = BinaryAttribute(null=True, legacy_encoding=False)
    previous_secret_until = NumberAttribute(null=True)
    failing_since = NumberAttribute(null=True)
    disabled_at = NumberAttribute(null=True)
    disabled_reason = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    version = NumberAttribute(default=0)


class WebhookDeliveryModel(Model):
    """One message for one endpoint (endpoint_key = "{tenant_id}#{endpoint_id}"), its attempts; TTL."""

    Meta = _meta("webhook_deliveries_table")  # type: ignore[assignment]

    endpoint_key = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    payload = UnicodeAttribute()
    group = UnicodeAttribute()
    status = UnicodeAttribute()
    attempt_count = NumberAttribute(default=0)
    cycle = NumberAttribute(default=0)
    cycle_attempts = NumberAttribute(default=0)
    next_attempt_at = NumberAttribute(null=True)
    attempts = ListAttribute[Any](null=True)  # list of maps
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    expires_at = NumberAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    AccountModel,
    PostModel,
    OAuthSessionModel,
    RateLimitModel,
    TenantModel,
    PacingModel,
    MetricsHistoryModel,
    WebhookEndpointModel,
    WebhookDeliveryModel,
)
_bind_lock = threading.Lock()


def bind_models(settings: Settings | None = None) -> None:
    """Re-read region/endpoint from the environment and drop cached connections (tests, local stack).

    Table names need no binding (they are read from Settings on each use); `settings`, when given, is only
    checked for the table names so a misconfigured test fails here rather than on the first query.
    """
    if settings is not None:
        for name in ("accounts_table", "posts_table", "oauth_sessions_table"):
            settings.require(name)
    with _bind_lock:
        for model in ALL_MODELS:
            model.Meta.region = aws.region()
            model.Meta.host = aws.endpoint_url()
            model._connection = None


def table_name_of(model: type[Model]) -> str:
    """The table a model currently points at (diagnostics and tests)."""
    return str(model.Meta.table_name)
