"""Builds the publish service and worker from Settings and the app secrets, once per container.

Rebuilt only when settings or secrets change (tests switch environments), so the TikTok client's
connection pool, the token cipher's data-key cache and the idempotency layer survive across invocations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_publisher.adapters.s3_media import PullUrlSigner, S3Media
from tiktok_publisher.config import AppSecrets, ConfigError, Settings
from tiktok_publisher.container import Container
from tiktok_publisher.domain.jobs import SqsJobQueue
from tiktok_publisher.publishing.service import PublishService
from tiktok_publisher.publishing.uploads import UploadIds, UploadService
from tiktok_publisher.publishing.worker import PublishWorker

# The worker streams chunks of up to 64 MB: give a PUT room to complete.
WORKER_UPLOAD_TIMEOUT: tuple[float, float] = (3.05, 120.0)
API_TIKTOK_TIMEOUT: tuple[float, float] = (3.05, 8.0)


@dataclass(frozen=True)
class Publishing:
    settings: Settings
    secrets: AppSecrets
    service: PublishService
    uploads: UploadService
    worker: PublishWorker


def _cloudfront_key(secrets: AppSecrets) -> Any:
    def load() -> tuple[str, str]:
        if secrets.cloudfront_private_key is None or not secrets.cloudfront_key_pair_id:
            raise ConfigError(
                "MEDIA_PULL_MODE=cloudfront needs cloudfront_private_key and cloudfront_key_pair_id"
            )
        return secrets.cloudfront_key_pair_id, secrets.cloudfront_private_key.get_secret_value()

    return load


def build(settings: Settings, secrets: AppSecrets) -> Publishing:
    """Every port of the publishing area, wired (fails fast naming a missing variable)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from tiktok_publisher.adapters import aws
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.posts_table import PostRepository
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.publishing.trigger import UploadTrigger
    from tiktok_publisher.refresh import refresher_for

    settings.require("posts_table")
    settings.require("accounts_table")
    media = S3Media(settings.require("media_bucket"))
    queue = SqsJobQueue(settings.require("publish_queue_url"))
    pull = PullUrlSigner(
        settings.media_pull_mode, settings.media_pull_base_url, media, cloudfront_key=_cloudfront_key(secrets)
    )
    accounts = AccountRepository(refresh_shards=settings.refresh_shards)
    posts = PostRepository()
    client = TikTokClient(
        settings.tiktok_api_base,
        client_key=secrets.client_key,
        client_secret=secrets.client_secret.get_secret_value(),
        timeout=API_TIKTOK_TIMEOUT,
        upload_timeout=WORKER_UPLOAD_TIMEOUT,
    )
    events = EventPublisher(settings.event_bus_name)
    # One refresher for the API and the worker: the refresh path the scheduled sweep uses (DESIGN.md §6).
    refresher = refresher_for(accounts, client, events)
    ids = UploadIds(secrets.state_signing_key.get_secret_value().encode("utf-8"))
    idempotency = None
    if settings.idempotency_table:
        idempotency = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table, boto3_client=aws.client("dynamodb")
        )
    service = PublishService(
        posts=posts,
        accounts=accounts,
        client=client,
        media=media,
        queue=queue,
        upload_ids=ids,
        pull=pull,
        audited=settings.app_audited,
        refresher=refresher,
        trigger=UploadTrigger(posts=posts, media=media, queue=queue, events=events),
        idempotency_store=idempotency,
    )
    worker = PublishWorker(
        posts=posts,
        accounts=accounts,
        client=client,
        media=media,
        queue=queue,
        events=events,
        pull=pull,
        refresher=refresher,
    )
    return Publishing(
        settings, secrets, service, UploadService(accounts=accounts, store=media, ids=ids), worker
    )


_container: Container[Publishing] = Container(build)


def get_publishing() -> Publishing:
    """The container's publishing ports (see module docstring)."""
    return _container.get()


def reset_publishing() -> None:
    """Forget the cached ports (tests)."""
    _container.reset()
