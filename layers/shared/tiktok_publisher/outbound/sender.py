"""One attempt at one message: check the target again, sign, send, record, and say when to try again.

The delivery row is the state; the queue message only points at it (with the replay cycle it belongs to).
A message whose row is no longer open (already delivered, given up, replayed since) is acknowledged without
sending, which makes duplicate queue messages harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from tiktok_publisher.domain.errors import DomainError, NotFound
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.outbound import (
    ATTEMPTS_KEPT,
    OPEN_DELIVERY,
    Attempt,
    Delivery,
    DeliveryMessage,
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    TransportResult,
    iso,
    retry_delay,
    should_disable,
    signature_headers,
)
from tiktok_publisher.domain.ssrf import TargetPolicy, UnsafeUrl
from tiktok_publisher.observability import logger
from tiktok_publisher.outbound.targets import resolve_target
from tiktok_publisher.ports import Events, SecretBox, WebhookDeliveries, WebhookEndpoints, WebhookTransport

_SAVE_TRIES = 3
EARLY_TOLERANCE_S = 2


class OutcomeKind(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # try again after `retry_in` seconds
    FAILED = "failed"  # retries exhausted
    SKIPPED = "skipped"  # endpoint deleted or disabled
    STALE = "stale"  # nothing to do for this queue message


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    retry_in: int | None = None
    status_code: int | None = None


@dataclass
class DeliverySender:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    secrets: SecretBox
    transport: WebhookTransport
    events: Events
    policy: TargetPolicy
    clock: Callable[[], float] = time.time

    def attempt(self, message: DeliveryMessage) -> Outcome:
        """Make the attempt this queue message stands for (if it still stands for one)."""
        try:
            delivery = self.deliveries.get(message.tenant_id, message.endpoint_id, message.message_id)
        except NotFound:
            return Outcome(OutcomeKind.STALE)
        if delivery.cycle != message.cycle or delivery.status not in OPEN_DELIVERY:
            return Outcome(OutcomeKind.STALE)
        now = self.clock()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at - now > EARLY_TOLERANCE_S:
            # Handed back before its time (a visibility change that did not take): wait the rest.
            return Outcome(OutcomeKind.RETRY, retry_in=int(delivery.next_attempt_at - now) + 1)
        try:
            endpoint = self.endpoints.get(message.tenant_id, message.endpoint_id)
        except NotFound:
            return self._skip(delivery, now, "endpoint_deleted")
        if endpoint.status is not EndpointStatus.ENABLED:
            return self._skip(delivery, now, "endpoint_disabled")

        result = self._send(endpoint, delivery, now)
        attempt = Attempt(
            number=delivery.attempt_count + 1,
            at=now,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error if result.status_code is None else None,
            replay=delivery.cycle > 0,
        )
        cycle_attempts = delivery.cycle_attempts + 1
        delay = None if attempt.ok else retry_delay(cycle_attempts)
        if attempt.ok:
            status = DeliveryStatus.SUCCEEDED
        else:
            status = DeliveryStatus.RETRYING if delay is not None else DeliveryStatus.FAILED
        updated = replace(
            delivery,
            status=status,
            attempt_count=delivery.attempt_count + 1,
            cycle_attempts=cycle_attempts,
            next_attempt_at=now + delay if delay is not None else None,
            attempts=[*delivery.attempts, attempt][-ATTEMPTS_KEPT:],
            updated_at=now,
        )
        if not self.deliveries.save(
            updated, expected_attempts=delivery.attempt_count, expected_cycle=delivery.cycle
        ):
            # Another attempt or a replay got there first; its own message carries on from there.
            return Outcome(OutcomeKind.STALE)
        logger.info(
            "webhook attempt",
            extra={
                "endpoint_id": endpoint.endpoint_id,
                "message_id": delivery.message_id,
                "attempt": attempt.number,
                "status_code": attempt.status_code,
                "latency_ms": attempt.latency_ms,
                "error": attempt.error,
                "retry_in": delay,
            },
        )
        self._track_health(endpoint, ok=attempt.ok, now=now)
        if attempt.ok:
            return Outcome(OutcomeKind.DELIVERED, status_code=attempt.status_code)
        if delay is not None:
            return Outcome(OutcomeKind.RETRY, retry_in=delay, status_code=attempt.status_code)
        return Outcome(OutcomeKind.FAILED, status_code=attempt.status_code)

    def _send(self, endpoint: Endpoint, delivery: Delivery, now: float) -> TransportResult:
        try:
            # Resolved and checked again for every attempt, and the connection goes to that address.
            url, address = resolve_target(endpoint.url, self.transport, self.policy)
        except UnsafeUrl:
            return TransportResult(None, 0, "unsafe_address")
        secrets = [
            self.secrets.open(
                endpoint.secret_enc, tenant_id=endpoint.tenant_id, endpoint_id=endpoint.endpoint_id
            )
        ]
        if endpoint.previous_secret_enc and (endpoint.previous_secret_until or 0) > now:
            secrets.append(
                self.secrets.open(
                    endpoint.previous_secret_enc,
                    tenant_id=endpoint.tenant_id,
                    endpoint_id=endpoint.endpoint_id,
                )
            )
        body = delivery.payload.encode("utf-8")
        headers = signature_headers(secrets, delivery.message_id, int(now), body)
        return self.transport.post(url, address, headers, body)

    def _skip(self, delivery: Delivery, now: float, reason: str) -> Outcome:
        skipped = replace(
            delivery,
            status=DeliveryStatus.SKIPPED,
            next_attempt_at=None,
            updated_at=now,
            attempts=[
                *delivery.attempts,
                Attempt(delivery.attempt_count + 1, now, None, 0, reason, delivery.cycle > 0),
            ][-ATTEMPTS_KEPT:],
            attempt_count=delivery.attempt_count + 1,
        )
        self.deliveries.save(skipped, expected_attempts=delivery.attempt_count, expected_cycle=delivery.cycle)
        return Outcome(OutcomeKind.SKIPPED)

    def _track_health(self, endpoint: Endpoint, *, ok: bool, now: float) -> None:
        """Success clears the failure clock; failures start it, and disable the endpoint once it ran out."""
        current = endpoint
        for _ in range(_SAVE_TRIES):
            if ok and current.failing_since is None:
                return
            if not ok and current.failing_since is not None and not should_disable(current, now):
                return
            if ok:
                changed = replace(current, failing_since=None)
            elif current.failing_since is None:
                changed = replace(current, failing_since=now)
            else:
                changed = replace(
                    current,
                    status=EndpointStatus.DISABLED,
                    disabled_at=now,
                    disabled_reason="failing",
                    updated_at=now,
                )
            if self.endpoints.save(changed, expected_version=current.version) is not None:
                if changed.status is EndpointStatus.DISABLED:
                    self._announce_disabled(changed)
                return
            try:
                current = self.endpoints.get(endpoint.tenant_id, endpoint.endpoint_id)
            except NotFound:
                return
            if current.status is not EndpointStatus.ENABLED:
                return

    def _announce_disabled(self, endpoint: Endpoint) -> None:
        logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.endpoint_id})
        detail = {
            "endpoint_id": endpoint.endpoint_id,
            "status": "disabled",
            "reason": "failing",
            "failing_since": iso(endpoint.failing_since or 0),
            "disabled_at": iso(endpoint.disabled_at or 0),
            "message": "Every delivery to this endpoint failed for 5 days, so it was disabled. Fix it, "
            "enable it again (PATCH enabled=true), then replay what it missed.",
        }
        try:
            self.events.publish(DetailType.WEBHOOK_ENDPOINT_DISABLED, detail, tenant_id=endpoint.tenant_id)
        except DomainError as exc:  # the endpoint is disabled either way; the API shows it
            logger.warning("endpoint disabled: event not published", extra={"error_code": exc.code})
