"""The WebhookEndpoints and WebhookDeliveries tables (PynamoDB), and the sealed secrets of the endpoints.

Every read and write names the tenant in its key: an endpoint id of another tenant is simply not found.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, PynamoDBException

from tiktok_publisher.adapters.dynamodb import (
    StoreError,
    WebhookDeliveryModel,
    WebhookEndpointModel,
    is_condition_failure,
)
from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.outbound import (
    DELIVERY_RETENTION_S,
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
)

if TYPE_CHECKING:
    from tiktok_publisher.adapters.kms_cipher import TokenCipher

_NOT_FOUND = "No such webhook endpoint."


def endpoint_key(tenant_id: str, endpoint_id: str) -> str:
    return f"{tenant_id}#{endpoint_id}"


def _endpoint(row: WebhookEndpointModel) -> Endpoint:
    return Endpoint(
        tenant_id=row.tenant_id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        description=row.description or "",
        event_types=list(row.event_types or []),
        status=EndpointStatus(row.status),
        created_at=float(row.created_at),
        updated_at=float(row.updated_at),
        secret_enc=bytes(row.secret_enc),
        previous_secret_enc=bytes(row.previous_secret_enc) if row.previous_secret_enc else None,
        previous_secret_until=row.previous_secret_until,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        version=int(row.version or 0),
    )


def _endpoint_row(endpoint: Endpoint, version: int) -> WebhookEndpointModel:
    return WebhookEndpointModel(
        endpoint.tenant_id,
        endpoint.endpoint_id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=sorted(endpoint.event_types),
        status=str(endpoint.status),
        secret_enc=endpoint.secret_enc,
        previous_secret_enc=endpoint.previous_secret_enc,
        previous_secret_until=endpoint.previous_secret_until,
        failing_since=endpoint.failing_since,
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        version=version,
    )


class WebhookEndpointRepository:
    """The WebhookEndpoints table (ports.WebhookEndpoints)."""

    def create(self, endpoint: Endpoint) -> None:
        try:
            _endpoint_row(endpoint, 0).save(
                condition=WebhookEndpointModel.endpoint_id.does_not_exist()  # type: ignore[attr-defined]
            )
        except PutError as exc:
            raise StoreError.wrap("webhook endpoint create", exc) from None

    def get(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        try:
            return _endpoint(WebhookEndpointModel.get(tenant_id, endpoint_id, consistent_read=True))
        except DoesNotExist:
            raise NotFound(_NOT_FOUND) from None
        except PynamoDBException as exc:
            raise StoreError.wrap("webhook endpoint read", exc) from None

    def list(self, tenant_id: str) -> Sequence[Endpoint]:
        try:
            return [_endpoint(r) for r in WebhookEndpointModel.query(tenant_id, consistent_read=True)]
        except PynamoDBException as exc:
            raise StoreError.wrap("webhook endpoint list", exc) from None

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        try:
            WebhookEndpointModel(tenant_id, endpoint_id).delete(
                condition=WebhookEndpointModel.endpoint_id.exists()  # type: ignore[attr-defined]
            )
        except DeleteError as exc:
            if is_condition_failure(exc):
                raise NotFound(_NOT_FOUND) from None
            raise StoreError.wrap("webhook endpoint delete", exc) from None

    def save(self, endpoint: Endpoint, *, expected_version: int) -> Endpoint | None:
        row = _endpoint_row(endpoint, expected_version + 1)
        try:
            row.save(
                condition=(WebhookEndpointModel.version == expected_version)
                & WebhookEndpointModel.endpoint_id.exists()  # type: ignore[attr-defined]
            )
        except PutError as exc:
            if is_condition_failure(exc):
                return None
            raise StoreError.wrap("webhook endpoint save", exc) from None
        return _endpoint(row)


def _delivery(row: WebhookDeliveryModel) -> Delivery:
    return Delivery(
        tenant_id=row.tenant_id,
        endpoint_id=row.endpoint_id,
        message_id=row.message_id,
        event_type=row.event_type,
        payload=row.payload,
        group=row.group,
        status=DeliveryStatus(row.status),
        created_at=float(row.created_at),
        updated_at=float(row.updated_at),
        attempt_count=int(row.attempt_count or 0),
        cycle=int(row.cycle or 0),
        cycle_attempts=int(row.cycle_attempts or 0),
        next_attempt_at=row.next_attempt_at,
        attempts=[Attempt.from_dict(a) for a in (row.attempts or [])],
    )


def _delivery_row(delivery: Delivery) -> WebhookDeliveryModel:
    return WebhookDeliveryModel(
        endpoint_key(delivery.tenant_id, delivery.endpoint_id),
        delivery.message_id,
        tenant_id=delivery.tenant_id,
        endpoint_id=delivery.endpoint_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        group=delivery.group,
        status=str(delivery.status),
        attempt_count=delivery.attempt_count,
        cycle=delivery.cycle,
        cycle_attempts=delivery.cycle_attempts,
        next_attempt_at=delivery.next_attempt_at,
        attempts=[a.to_dict() for a in delivery.attempts],
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        expires_at=int(delivery.created_at) + DELIVERY_RETENTION_S,
    )


class WebhookDeliveryRepository:
    """The WebhookDeliveries table (ports.WebhookDeliveries)."""

    def create(self, delivery: Delivery) -> bool:
        try:
            _delivery_row(delivery).save(
                condition=WebhookDeliveryModel.message_id.does_not_exist()  # type: ignore[attr-defined]
            )
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise StoreError.wrap("webhook delivery create", exc) from None
        return True

    def get(self, tenant_id: str, endpoint_id: str, message_id: str) -> Delivery:
        try:
            row = WebhookDeliveryModel.get(
                endpoint_key(tenant_id, endpoint_id), message_id, consistent_read=True
            )
        except DoesNotExist:
            raise NotFound("No such delivery for this endpoint.") from None
        except PynamoDBException as exc:
            raise StoreError.wrap("webhook delivery read", exc) from None
        return _delivery(row)

    def page(
        self, tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        key = endpoint_key(tenant_id, endpoint_id)
        start = _decode_cursor(cursor, key) if cursor else None
        try:
            result = WebhookDeliveryModel.query(
                key, scan_index_forward=False, limit=limit, last_evaluated_key=start, page_size=limit
            )
            rows = [_delivery(r) for r in result]
            last = result.last_evaluated_key
        except PynamoDBException as exc:
            raise StoreError.wrap("webhook delivery list", exc) from None
        return rows, _encode_cursor(last) if last else None

    def save(self, delivery: Delivery, *, expected_attempts: int, expected_cycle: int) -> bool:
        try:
            _delivery_row(delivery).save(
                condition=(WebhookDeliveryModel.attempt_count == expected_attempts)
                & (WebhookDeliveryModel.cycle == expected_cycle)
            )
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise StoreError.wrap("webhook delivery save", exc) from None
        return True


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, endpoint_key_value: str) -> dict[str, Any]:
    """The DynamoDB start key in `cursor`; NotFound-free: a cursor for another endpoint is a 422."""
    from tiktok_publisher.domain.errors import InvalidInput

    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if raw["endpoint_key"]["S"] != endpoint_key_value or set(raw) != {"endpoint_key", "message_id"}:
            raise ValueError("cursor of another endpoint")
        if not isinstance(raw["message_id"]["S"], str):
            raise ValueError("bad cursor")
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("The cursor is not valid for this endpoint.") from None
    return dict(raw)


class WebhookSecretBox:
    """Webhook secrets sealed with the shared TokenCipher (ports.SecretBox): AES-256-GCM under a KMS data key,
    bound to (tenant, endpoint, "webhook_secret") so a sealed secret moved to another endpoint fails."""

    def __init__(self, cipher: TokenCipher | None = None) -> None:
        self._cipher = cipher

    @property
    def cipher(self) -> TokenCipher:
        if self._cipher is None:
            from tiktok_publisher.adapters.accounts_table import default_cipher

            self._cipher = default_cipher()
        return self._cipher

    def seal(self, secret: str, *, tenant_id: str, endpoint_id: str) -> bytes:
        return self.cipher.encrypt(secret, tenant_id=tenant_id, open_id=endpoint_id, kind="webhook_secret")

    def open(self, blob: bytes, *, tenant_id: str, endpoint_id: str) -> str:
        return self.cipher.decrypt(blob, tenant_id=tenant_id, open_id=endpoint_id, kind="webhook_secret")
