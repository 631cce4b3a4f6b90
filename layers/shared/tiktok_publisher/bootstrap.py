"""The one composition root: every port and service, built once per container from Settings and the secrets.

An entrypoint asks `ports()` for what it needs; each port is built on first use (so a function pays only for
what it touches at cold start) and then kept, so the TikTok client's connection pool, the token cipher's
data-key cache and the idempotency layer survive across invocations. The whole set is rebuilt only when the
settings or the app secret change: Powertools Parameters hands back a rotated secret after its cache age
(new client credentials must reach the TikTok client), and tests switch environments between cases.

Functions whose role never needs the app secret (s3_upload, dispatch: their IAM roles cannot read it) ask
`ports(secrets=False)`; a port that needs a secret then fails with a ConfigError naming it.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property
from typing import TYPE_CHECKING

from tiktok_publisher.config import ConfigError, Settings, get_secrets, get_settings, get_signing_key
from tiktok_publisher.domain.metrics import MetricsPolicy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from tiktok_publisher.accounts.erasure import AccountEraser
    from tiktok_publisher.adapters.accounts_table import AccountRepository, AccountStatsStore, RefreshStore
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.metrics_table import MetricsHistoryRepository
    from tiktok_publisher.adapters.pacing_table import PacingTable
    from tiktok_publisher.adapters.posts_table import PostRepository
    from tiktok_publisher.adapters.s3_media import PullUrlSigner, S3Media
    from tiktok_publisher.adapters.sessions_table import OAuthSessionRepository
    from tiktok_publisher.adapters.sqs import SqsJobQueue, WebhookFifoQueue
    from tiktok_publisher.adapters.sweep_handoff import EventBridgeHandOff
    from tiktok_publisher.adapters.tenants_table import TenantSettingsRepository
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.adapters.webhook_http import HttpWebhookTransport
    from tiktok_publisher.adapters.webhooks_table import (
        WebhookDeliveryRepository,
        WebhookEndpointRepository,
        WebhookSecretBox,
    )
    from tiktok_publisher.app_secrets import AppSecrets
    from tiktok_publisher.connect.service import ConnectConfig
    from tiktok_publisher.dispatch.dispatcher import ScheduleDispatcher
    from tiktok_publisher.domain.ssrf import TargetPolicy
    from tiktok_publisher.metrics.reads import Reads
    from tiktok_publisher.metrics.service import MetricsService
    from tiktok_publisher.metrics.snapshots import SnapshotRun
    from tiktok_publisher.outbound.endpoints import EndpointService
    from tiktok_publisher.outbound.fanout import FanOut
    from tiktok_publisher.outbound.sender import DeliverySender
    from tiktok_publisher.ports import Deployments, ScheduleRules, SecretDocuments, UrlProperties, WebProbe
    from tiktok_publisher.publishing.changes import PostChanges
    from tiktok_publisher.publishing.limits import TenantLimits
    from tiktok_publisher.publishing.service import PublishService
    from tiktok_publisher.publishing.trigger import UploadTrigger
    from tiktok_publisher.publishing.uploads import UploadIds, UploadService
    from tiktok_publisher.publishing.worker import PublishWorker
    from tiktok_publisher.refresh.core import TokenRefresher
    from tiktok_publisher.refresh.runtime import RefreshRuntime
    from tiktok_publisher.webhooks.service import WebhookService

# (connect, read) seconds per TikTok call: inside API Gateway's 30 s integration timeout with room for the
# client's retries of read-only calls, and tight enough for a refresh sweep to fit many calls in its budget.
TIKTOK_TIMEOUT: tuple[float, float] = (3.05, 8.0)
# The worker streams chunks of up to 64 MB: give a PUT room to complete.
TIKTOK_UPLOAD_TIMEOUT: tuple[float, float] = (3.05, 120.0)

# Adapters and services are imported inside the builders below on purpose: a function imports only the
# adapters its own ports need (boto3, PynamoDB, requests, cryptography each cost tens of ms at cold start).


class Ports:
    """Every port and service of one container, each built on first use."""

    def __init__(self, settings: Settings, secrets: AppSecrets | None) -> None:
        self.settings = settings
        self.seen_secret = secrets

    @property
    def secrets(self) -> AppSecrets:
        """The app secret; ConfigError in a function that runs without it."""
        if self.seen_secret is None:
            raise ConfigError("this function runs without the app secret (APP_SECRET_ID)")
        return self.seen_secret

    @staticmethod
    def now() -> int:
        """The clock port: epoch seconds."""
        return int(time.time())

    # ------------------------------------------------------------------ adapters

    @cached_property
    def tiktok(self) -> TikTokClient:
        """The one TikTok client of the container (its connection pool is shared by every feature)."""
        from tiktok_publisher.adapters.tiktok_client import TikTokClient

        return TikTokClient(
            self.settings.tiktok_api_base,
            client_key=self.secrets.client_key,
            client_secret=self.secrets.client_secret.get_secret_value(),
            timeout=TIKTOK_TIMEOUT,
            upload_timeout=TIKTOK_UPLOAD_TIMEOUT,
            upload_origins=self.settings.tiktok_upload_origins,
        )

    @cached_property
    def accounts(self) -> AccountRepository:
        from tiktok_publisher.adapters.accounts_table import AccountRepository

        self.settings.require("accounts_table")
        return AccountRepository(  # the shared TokenCipher
            refresh_shards=self.settings.refresh_shards, track_stats=self.settings.metrics_enabled
        )

    @cached_property
    def posts(self) -> PostRepository:
        from tiktok_publisher.adapters.posts_table import PostRepository

        self.settings.require("posts_table")
        return PostRepository(
            retention_days=self.settings.post_retention_days, track_metrics=self.settings.metrics_enabled
        )

    @cached_property
    def tenants(self) -> TenantSettingsRepository:
        from tiktok_publisher.adapters.tenants_table import TenantSettingsRepository

        self.settings.require("tenants_table")
        return TenantSettingsRepository()

    @cached_property
    def account_stats(self) -> AccountStatsStore:
        from tiktok_publisher.adapters.accounts_table import AccountStatsStore

        self.settings.require("accounts_table")
        return AccountStatsStore()

    @cached_property
    def metrics_history(self) -> MetricsHistoryRepository:
        from tiktok_publisher.adapters.metrics_table import MetricsHistoryRepository

        self.settings.require("metrics_table")
        return MetricsHistoryRepository()

    @cached_property
    def sessions(self) -> OAuthSessionRepository:
        from tiktok_publisher.adapters.sessions_table import OAuthSessionRepository

        self.settings.require("oauth_sessions_table")
        return OAuthSessionRepository()

    @cached_property
    def events(self) -> EventPublisher:
        from tiktok_publisher.adapters.eventbridge import EventPublisher

        return EventPublisher(self.settings.event_bus_name)

    @cached_property
    def handoff(self) -> EventBridgeHandOff:
        from tiktok_publisher.adapters.sweep_handoff import EventBridgeHandOff

        return EventBridgeHandOff(self.settings.event_bus_name)

    @cached_property
    def queue(self) -> SqsJobQueue:
        from tiktok_publisher.adapters.sqs import SqsJobQueue

        return SqsJobQueue(self.settings.require("publish_queue_url"))

    @cached_property
    def media(self) -> S3Media:
        from tiktok_publisher.adapters.s3_media import S3Media

        return S3Media(self.settings.require("media_bucket"))

    @cached_property
    def pull(self) -> PullUrlSigner:
        from tiktok_publisher.adapters.s3_media import PullUrlSigner

        return PullUrlSigner(
            self.settings.media_pull_mode,
            self.settings.media_pull_base_url,
            self.media,
            cloudfront_key=self._cloudfront_key,
        )

    def _cloudfront_key(self) -> tuple[str, str]:
        # Read when a URL is signed: only cloudfront mode needs these keys of the secret.
        secrets = self.secrets
        if secrets.cloudfront_private_key is None or not secrets.cloudfront_key_pair_id:
            raise ConfigError(
                "MEDIA_PULL_MODE=cloudfront needs cloudfront_private_key and cloudfront_key_pair_id"
            )
        return secrets.cloudfront_key_pair_id, secrets.cloudfront_private_key.get_secret_value()

    @cached_property
    def pacer(self) -> PacingTable:
        """TikTok's per-token call limits, shared by every function (PACING_TABLE)."""
        from tiktok_publisher.adapters.pacing_table import PacingTable

        self.settings.require("pacing_table")
        return PacingTable()

    @cached_property
    def idempotency(self) -> BasePersistenceLayer | None:
        """Powertools' DynamoDB persistence layer on IDEMPOTENCY_TABLE, or None when the table is not set."""
        if not self.settings.idempotency_table:
            return None
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from tiktok_publisher.adapters import aws

        return DynamoDBPersistenceLayer(
            table_name=self.settings.idempotency_table, boto3_client=aws.client("dynamodb")
        )

    # ------------------------------------------------------------------ features

    @cached_property
    def refresher(self) -> TokenRefresher:
        """Access tokens for every TikTok call: the path the scheduled sweep uses too (DESIGN.md §6)."""
        from tiktok_publisher.adapters.accounts_table import RefreshStore
        from tiktok_publisher.refresh.core import TokenRefresher

        return TokenRefresher(
            accounts=self.accounts,
            leases=RefreshStore(),
            client=self.tiktok,
            events=self.events,
        )

    @property
    def connect_config(self) -> ConnectConfig:
        """The connect flow's view of settings and secrets."""
        from tiktok_publisher.connect.service import ConnectConfig

        s = self.settings
        return ConnectConfig(
            stage=s.stage,
            auth_base=s.tiktok_auth_base,
            client_key=self.secrets.client_key,
            redirect_uri=s.require("oauth_redirect_uri"),
            allowed_origins=tuple(s.return_to_allowed_origins),
            pkce_mode=s.pkce_mode,
            metrics_enabled=s.metrics_enabled,
            # Its own secret (STATE_SECRET_ID), through Parameters' cache: a rotation reaches the next start.
            state_key=get_signing_key("state_secret_id"),
        )

    @cached_property
    def tenant_limits(self) -> TenantLimits:
        """Per-tenant allowances of POST /v1/uploads and POST /v1/posts (off when no table is configured)."""
        from tiktok_publisher.publishing.limits import TenantLimits

        limiter = None
        if self.settings.rate_limits_table:
            from tiktok_publisher.adapters.rate_limit_table import DynamoRateLimiter

            limiter = DynamoRateLimiter()
        s = self.settings
        return TenantLimits(
            limiter,
            {"uploads": s.rate_limit_uploads_per_minute, "posts": s.rate_limit_posts_per_minute},
        )

    @property
    def upload_ids(self) -> UploadIds:
        """Upload ids signed with the key of UPLOAD_SECRET_ID (only the publish function's role reads it)."""
        from tiktok_publisher.publishing.uploads import UploadIds

        key = get_signing_key("upload_secret_id")
        cached = self.__dict__.get("_upload_ids")
        if cached is None or cached[0] != key:
            cached = self.__dict__["_upload_ids"] = (key, UploadIds(key))
        return cached[1]

    @cached_property
    def uploads(self) -> UploadService:
        from tiktok_publisher.publishing.uploads import UploadService

        return UploadService(accounts=self.accounts, store=self.media, ids=self.upload_ids)

    @cached_property
    def trigger(self) -> UploadTrigger:
        """The S3 upload trigger's logic (also used by the publish API for an upload that came first)."""
        from tiktok_publisher.publishing.trigger import UploadTrigger

        return UploadTrigger(posts=self.posts, media=self.media, queue=self.queue, events=self.events)

    @cached_property
    def publish_service(self) -> PublishService:
        from tiktok_publisher.publishing.service import PublishService

        return PublishService(
            posts=self.posts,
            accounts=self.accounts,
            client=self.tiktok,
            media=self.media,
            queue=self.queue,
            upload_ids=self.upload_ids,
            pull=self.pull,
            audited=self.settings.app_audited,
            refresher=self.refresher,
            pacer=self.pacer,
            trigger=self.trigger,
            idempotency_store=self.idempotency,
        )

    @cached_property
    def worker(self) -> PublishWorker:
        from tiktok_publisher.publishing.worker import PublishWorker

        return PublishWorker(
            posts=self.posts,
            accounts=self.accounts,
            client=self.tiktok,
            media=self.media,
            queue=self.queue,
            events=self.events,
            pull=self.pull,
            refresher=self.refresher,
            pacer=self.pacer,
            audited=self.settings.app_audited,
        )

    @cached_property
    def post_changes(self) -> PostChanges:
        """PATCH /v1/posts/{post_id} and POST /v1/posts/{post_id}/retry."""
        from tiktok_publisher.publishing.changes import PostChanges

        return PostChanges(
            posts=self.posts,
            accounts=self.accounts,
            client=self.tiktok,
            queue=self.queue,
            tokens=self.refresher,
            audited=self.settings.app_audited,
        )

    @property
    def metrics_policy(self) -> MetricsPolicy:
        """The operator's metrics settings (domain/metrics.py)."""
        s = self.settings
        return MetricsPolicy(
            enabled=s.metrics_enabled,
            post_interval_s=s.metrics_post_interval_s,
            account_interval_s=s.metrics_account_interval_s,
            post_window_s=s.metrics_post_window_days * 86400,
            history_s=s.metrics_history_days * 86400,
        )

    @cached_property
    def metrics_reads(self) -> Reads:
        from tiktok_publisher.metrics.reads import Reads

        return Reads(
            posts=self.posts,
            post_metrics=self.posts,
            accounts=self.accounts,
            account_stats=self.account_stats,
            history=self.metrics_history,
            tokens=self.refresher,
            display=self.tiktok,
            content=self.tiktok,
            policy=self.metrics_policy,
        )

    @cached_property
    def metrics_service(self) -> MetricsService:
        from tiktok_publisher.metrics.service import MetricsService

        return MetricsService(self.metrics_reads)

    @cached_property
    def snapshot_run(self) -> SnapshotRun:
        from tiktok_publisher.metrics.snapshots import SnapshotRun

        return SnapshotRun(self.metrics_reads)

    @cached_property
    def dispatcher(self) -> ScheduleDispatcher:
        from tiktok_publisher.dispatch.dispatcher import ScheduleDispatcher

        return ScheduleDispatcher(posts=self.posts, queue=self.queue, index=self.posts)

    @cached_property
    def refresh_runtime(self) -> RefreshRuntime:
        from tiktok_publisher.adapters.accounts_table import RefreshStore
        from tiktok_publisher.refresh.runtime import RefreshRuntime
        from tiktok_publisher.refresh.sweep import RefreshSweep

        return RefreshRuntime(
            shards=self.settings.refresh_shards,
            refresher=self.refresher,
            sweep=RefreshSweep(self.refresher, RefreshStore()),
            handoff=self.handoff,
        )

    @cached_property
    def eraser(self) -> AccountEraser:
        """Deletes everything of one TikTok user in one tenant (the API's and the webhook's path)."""
        from tiktok_publisher.accounts.erasure import AccountEraser

        return AccountEraser(
            accounts=self.accounts,
            posts=self.posts,
            media=self.media,
            events=self.events,
            client=self.tiktok,
            tokens=self.refresher,
        )

    @cached_property
    def refresh_keys(self) -> RefreshStore:
        """Every account's refresh keys (the refresh_due backfill command)."""
        from tiktok_publisher.adapters.accounts_table import RefreshStore

        self.settings.require("accounts_table")
        return RefreshStore()

    @cached_property
    def webhooks(self) -> WebhookService:
        from tiktok_publisher.webhooks.service import WebhookService

        return WebhookService(
            posts=self.posts,
            accounts=self.accounts,
            events=self.events,
            queue=self.queue,
            client_key=self.secrets.client_key,
            secret=self.secrets.client_secret.get_secret_value(),
            tenants=self.tenants if self.settings.tenants_table else None,
            eraser=self.eraser,
        )

    # ------------------------------------------------------------------ webhooks to the SaaS (outbound/)

    @cached_property
    def webhook_endpoints(self) -> WebhookEndpointRepository:
        from tiktok_publisher.adapters.webhooks_table import WebhookEndpointRepository

        self.settings.require("webhook_endpoints_table")
        return WebhookEndpointRepository()

    @cached_property
    def webhook_deliveries(self) -> WebhookDeliveryRepository:
        from tiktok_publisher.adapters.webhooks_table import WebhookDeliveryRepository

        self.settings.require("webhook_deliveries_table")
        return WebhookDeliveryRepository()

    @cached_property
    def webhook_queue(self) -> WebhookFifoQueue:
        from tiktok_publisher.adapters.sqs import WebhookFifoQueue

        return WebhookFifoQueue(self.settings.require("webhook_queue_url"))

    @cached_property
    def webhook_secrets(self) -> WebhookSecretBox:
        from tiktok_publisher.adapters.webhooks_table import WebhookSecretBox

        return WebhookSecretBox()  # the shared TokenCipher on TOKEN_KEY_ID

    @cached_property
    def webhook_transport(self) -> HttpWebhookTransport:
        from tiktok_publisher.adapters.webhook_http import HttpWebhookTransport

        return HttpWebhookTransport()

    @property
    def webhook_policy(self) -> TargetPolicy:
        """https and public addresses only, except on the local stack (http, and loopback when asked)."""
        from tiktok_publisher.domain.ssrf import TargetPolicy

        local = self.settings.stage == "local"
        return TargetPolicy(allow_http=local, allow_loopback=local and self.settings.webhook_allow_loopback)

    @cached_property
    def endpoint_service(self) -> EndpointService:
        from tiktok_publisher.outbound.endpoints import EndpointService

        return EndpointService(
            endpoints=self.webhook_endpoints,
            deliveries=self.webhook_deliveries,
            queue=self.webhook_queue,
            secrets=self.webhook_secrets,
            transport=self.webhook_transport,
            policy=self.webhook_policy,
        )

    @cached_property
    def fanout(self) -> FanOut:
        from tiktok_publisher.outbound.fanout import FanOut

        return FanOut(
            endpoints=self.webhook_endpoints, deliveries=self.webhook_deliveries, queue=self.webhook_queue
        )

    @cached_property
    def delivery_sender(self) -> DeliverySender:
        from tiktok_publisher.outbound.sender import DeliverySender

        return DeliverySender(
            endpoints=self.webhook_endpoints,
            deliveries=self.webhook_deliveries,
            secrets=self.webhook_secrets,
            transport=self.webhook_transport,
            events=self.events,
            policy=self.webhook_policy,
        )


_lock = threading.Lock()
_current: Ports | None = None


def ports(*, secrets: bool = True) -> Ports:
    """The container's ports for the current settings and app secret.

    `secrets=False` (functions that never read the secret) reuses the current ports as they are; a changed
    secret seen by any other caller rebuilds them all, so rotated client credentials reach the TikTok client.
    """
    global _current
    settings = get_settings()
    secret = get_secrets() if secrets else None
    with _lock:
        current = _current
        if (
            current is None
            or current.settings != settings
            or (secret and current.seen_secret not in (None, secret))
        ):
            current = _current = Ports(settings, secret)
        elif secret and current.seen_secret is None:
            current.seen_secret = secret
        return current


def reset() -> None:
    """Forget every port (tests)."""
    global _current
    with _lock:
        _current = None


# ---------------------------------------------------------------------- the operator's tools


class OperatorPorts:
    """The go-live tool's ports (`python -m tiktok_publisher.cli`): built from the command line's target, a
    stack in AWS or the local stack of `make run`, not from a function's environment."""

    def __init__(self, *, stack_name: str | None, local_gateway: str | None, api_url: str | None) -> None:
        self.stack_name = stack_name
        self.local_gateway = local_gateway
        self.api_url = api_url

    @property
    def local(self) -> bool:
        return self.local_gateway is not None

    @cached_property
    def deployments(self) -> Deployments:
        from tiktok_publisher.adapters.deployment import CloudFormationDeployments, LocalStackDeployments

        if self.local_gateway is not None:
            return LocalStackDeployments(self.local_gateway)
        if not self.stack_name:
            raise ConfigError("no stack: give --stack NAME (or --local for `make run`)")
        return CloudFormationDeployments(self.stack_name, api_url=self.api_url)

    @cached_property
    def secrets(self) -> SecretDocuments:
        from tiktok_publisher.adapters.deployment import SecretsManagerDocuments

        return SecretsManagerDocuments()

    @cached_property
    def web(self) -> WebProbe:
        from tiktok_publisher.adapters.web_probe import RequestsWebProbe

        return RequestsWebProbe()

    @cached_property
    def rules(self) -> ScheduleRules:
        from tiktok_publisher.adapters.deployment import EventBridgeRules

        return EventBridgeRules()

    @cached_property
    def url_properties(self) -> UrlProperties | None:
        """What TikTok counts as verified: known on the local stack (its emulator), not in AWS."""
        if self.local_gateway is None:
            return None
        from tiktok_publisher.adapters.deployment import EmulatorUrlProperties, LocalStackDeployments

        emulator = LocalStackDeployments(self.local_gateway).summary().get("emulator_url")
        return EmulatorUrlProperties(str(emulator)) if emulator else None

    def media(self, bucket: str) -> S3Media:
        from tiktok_publisher.adapters.s3_media import S3Media

        return S3Media(bucket)

    def pull(self, mode: str, base_url: str, bucket: str, secret_id: str | None) -> PullUrlSigner:
        """The worker's own URL signer for `mode` and `base_url` (CloudFront keys read from the secret)."""
        from tiktok_publisher.adapters.s3_media import PullUrlSigner

        def cloudfront_key() -> tuple[str, str]:
            values = self.secrets.read(secret_id) if secret_id else {}
            pair, pem = values.get("cloudfront_key_pair_id"), values.get("cloudfront_private_key")
            if not pair or not pem:
                raise ConfigError(
                    "cloudfront mode signs with the secret's cloudfront_key_pair_id and "
                    "cloudfront_private_key: "
                    "set them with `configure --cloudfront-key-pair-id ... --cloudfront-private-key-file ...`"
                )
            return str(pair), str(pem)

        return PullUrlSigner(mode, base_url, self.media(bucket), cloudfront_key=cloudfront_key)


def operator_ports(
    *, stack_name: str | None, region: str | None, local_gateway: str | None, api_url: str | None
) -> OperatorPorts:
    """The tool's ports, with the process pointed at the target: the region, or the local stack's moto."""
    import os

    from tiktok_publisher.adapters import aws

    if local_gateway is not None:
        from tiktok_publisher.adapters.deployment import LocalStackDeployments

        summary = LocalStackDeployments(local_gateway).summary()
        # moto accepts any credentials; these keep real ones from ever being sent to it.
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": str(summary["moto_url"]),
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
    elif region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    aws.reset_clients()
    return OperatorPorts(stack_name=stack_name, local_gateway=local_gateway, api_url=api_url)
