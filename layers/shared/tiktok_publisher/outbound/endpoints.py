"""The tenant's side of webhooks: register, list, change, delete endpoints, rotate their secrets, read the
delivery log and replay a message. Every call is scoped to the caller's tenant."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ulid import ULID

from tiktok_publisher.domain.errors import Conflict, NotFound
from tiktok_publisher.domain.outbound import (
    OPEN_DELIVERY,
    PREVIOUS_SECRET_GRACE_S,
    Delivery,
    DeliveryMessage,
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    new_secret,
    queue_group_id,
)
from tiktok_publisher.domain.ssrf import TargetPolicy
from tiktok_publisher.outbound.targets import resolve_target
from tiktok_publisher.ports import (
    SecretBox,
    WebhookDeliveries,
    WebhookEndpoints,
    WebhookQueue,
    WebhookTransport,
)

MAX_ENDPOINTS_PER_TENANT = 20
_SAVE_TRIES = 3


class TooManyEndpoints(Conflict):
    code = "too_many_endpoints"


class EndpointChanged(Conflict):
    """The endpoint changed while this request was applying its change (another request, or a delivery)."""

    code = "endpoint_changed"


def _new_endpoint_id() -> str:
    return "ep_" + str(ULID())


@dataclass
class EndpointService:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    queue: WebhookQueue
    secrets: SecretBox
    transport: WebhookTransport
    policy: TargetPolicy
    clock: Callable[[], float] = time.time
    new_id: Callable[[], str] = field(default=_new_endpoint_id)

    def create(
        self, tenant_id: str, *, url: str, event_types: list[str], description: str = ""
    ) -> tuple[Endpoint, str]:
        """A new enabled endpoint and its secret (the only time the secret is shown). UnsafeUrl: 422."""
        resolve_target(url, self.transport, self.policy)
        if len(self.endpoints.list(tenant_id)) >= MAX_ENDPOINTS_PER_TENANT:
            raise TooManyEndpoints(f"A tenant can register at most {MAX_ENDPOINTS_PER_TENANT} endpoints.")
        now = self.clock()
        endpoint_id = self.new_id()
        secret = new_secret()
        endpoint = Endpoint(
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            url=url,
            description=description,
            event_types=sorted(set(event_types)),
            status=EndpointStatus.ENABLED,
            created_at=now,
            updated_at=now,
            secret_enc=self.secrets.seal(secret, tenant_id=tenant_id, endpoint_id=endpoint_id),
        )
        self.endpoints.create(endpoint)
        return endpoint, secret

    def all(self, tenant_id: str) -> list[Endpoint]:
        """The tenant's endpoints, oldest first."""
        return sorted(self.endpoints.list(tenant_id), key=lambda e: e.created_at)

    def get(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        return self.endpoints.get(tenant_id, endpoint_id)

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        """Gone at once: messages still queued for it are skipped; its delivery log expires with its TTL."""
        self.endpoints.delete(tenant_id, endpoint_id)

    def update(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: list[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Endpoint:
        """Change what was given; `enabled=True` re-enables a disabled endpoint (failure clock restarted)."""
        if url is not None:
            resolve_target(url, self.transport, self.policy)

        def change(current: Endpoint, now: float) -> Endpoint:
            changed = replace(current, updated_at=now)
            if url is not None:
                changed.url = url
            if event_types is not None:
                changed.event_types = sorted(set(event_types))
            if description is not None:
                changed.description = description
            if enabled is True and current.status is EndpointStatus.DISABLED:
                changed.status = EndpointStatus.ENABLED
                changed.failing_since = changed.disabled_at = changed.disabled_reason = None
            elif enabled is False and current.status is EndpointStatus.ENABLED:
                changed.status = EndpointStatus.DISABLED
                changed.disabled_at, changed.disabled_reason = now, "disabled_by_tenant"
            return changed

        return self._apply(tenant_id, endpoint_id, change)

    def rotate_secret(self, tenant_id: str, endpoint_id: str) -> tuple[Endpoint, str]:
        """A new secret, shown once. The old one keeps signing (a second signature) for 24 hours."""
        secret = new_secret()

        def change(current: Endpoint, now: float) -> Endpoint:
            return replace(
                current,
                updated_at=now,
                secret_enc=self.secrets.seal(secret, tenant_id=tenant_id, endpoint_id=endpoint_id),
                previous_secret_enc=current.secret_enc,
                previous_secret_until=now + PREVIOUS_SECRET_GRACE_S,
            )

        return self._apply(tenant_id, endpoint_id, change), secret

    def _apply(
        self, tenant_id: str, endpoint_id: str, change: Callable[[Endpoint, float], Endpoint]
    ) -> Endpoint:
        for _ in range(_SAVE_TRIES):
            current = self.endpoints.get(tenant_id, endpoint_id)
            saved = self.endpoints.save(change(current, self.clock()), expected_version=current.version)
            if saved is not None:
                return saved
        raise EndpointChanged("The endpoint is changing right now; try again.")

    # ------------------------------------------------------------------ the delivery log

    def deliveries_page(
        self, tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        """A page of the endpoint's delivery log, newest first."""
        self.endpoints.get(tenant_id, endpoint_id)  # 404 for an endpoint that is not the caller's
        return self.deliveries.page(tenant_id, endpoint_id, limit=limit, cursor=cursor)

    def delivery(self, tenant_id: str, endpoint_id: str, message_id: str) -> Delivery:
        self.endpoints.get(tenant_id, endpoint_id)
        return self.deliveries.get(tenant_id, endpoint_id, message_id)

    def replay(self, tenant_id: str, endpoint_id: str, message_id: str) -> Delivery:
        """Send one message again, as a new cycle of attempts (same webhook-id and body, new timestamp)."""
        endpoint = self.endpoints.get(tenant_id, endpoint_id)
        if endpoint.status is not EndpointStatus.ENABLED:
            raise Conflict("The endpoint is disabled: enable it first (PATCH enabled=true), then replay.")
        try:
            delivery = self.deliveries.get(tenant_id, endpoint_id, message_id)
        except NotFound:
            raise NotFound("No such delivery for this endpoint.") from None
        if delivery.status in OPEN_DELIVERY:
            raise Conflict("This message is still being delivered; wait for it to succeed or fail.")
        replayed = replace(
            delivery,
            status=DeliveryStatus.PENDING,
            cycle=delivery.cycle + 1,
            cycle_attempts=0,
            next_attempt_at=None,
            updated_at=self.clock(),
        )
        if not self.deliveries.save(
            replayed, expected_attempts=delivery.attempt_count, expected_cycle=delivery.cycle
        ):
            raise Conflict("This message was just attempted or replayed; look at it again.")
        self.queue.send(
            DeliveryMessage(tenant_id, endpoint_id, message_id, replayed.cycle),
            group_id=queue_group_id(tenant_id, endpoint_id, delivery.group),
        )
        return replayed
