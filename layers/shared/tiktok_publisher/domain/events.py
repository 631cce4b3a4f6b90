"""Domain events out to the SaaS (source "tiktok-publisher"): their detail-types, and the guard that keeps
secrets from leaving: events leave our trust boundary, so a detail that carries anything token-shaped (a
sensitive key name or a value that looks like a token, JWT, bearer credential, OAuth code or signed URL) is
refused before sending: that is a bug in the caller, never something to publish. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_publisher.domain.errors import DomainError
from tiktok_publisher.domain.redaction import is_sensitive_key, looks_like_secret

SOURCE = "tiktok-publisher"
# Internal: a refresh sweep out of time hands its unfinished shards on (not for the SaaS, which filters on
# the detail-types it knows).
CONTINUATION_DETAIL_TYPE = "Refresh Sweep Continuation"


class DetailType:
    """The detail-types we emit (the SaaS subscribes to these names)."""

    ACCOUNT_CONNECTED = "Account Connected"
    ACCOUNT_DISCONNECTED = "Account Disconnected"
    ACCOUNT_NEEDS_RECONNECT = "Account Needs Reconnect"
    POST_PUBLISHED = "Post Published"
    POST_FAILED = "Post Failed"
    POST_SENT_TO_INBOX = "Post Sent To Inbox"
    ACCOUNT_DATA_DELETED = "Account Data Deleted"  # the audit record of a data deletion (domain/erasure.py)
    # Outbound webhooks (docs/webhooks.md): an endpoint that kept failing was switched off.
    WEBHOOK_ENDPOINT_DISABLED = "Webhook Endpoint Disabled"

    ALL = frozenset(
        {
            ACCOUNT_CONNECTED,
            ACCOUNT_DISCONNECTED,
            ACCOUNT_NEEDS_RECONNECT,
            POST_PUBLISHED,
            POST_FAILED,
            POST_SENT_TO_INBOX,
            ACCOUNT_DATA_DELETED,
            WEBHOOK_ENDPOINT_DISABLED,
        }
    )


class EventPublishError(DomainError):
    """EventBridge did not accept the event (throttled, bus missing, ...)."""

    status_code = 503
    code = "event_publish_failed"


class UnsafeEventDetail(ValueError):
    """A detail would have carried a secret out of the system."""


def check_safe(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            key_text = str(key)
            if is_sensitive_key(key_text):
                raise UnsafeEventDetail(f"event detail field {path}{key_text} is a secret-bearing name")
            check_safe(inner, f"{path}{key_text}.")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            check_safe(inner, f"{path}{index}.")
    elif isinstance(value, str):
        if looks_like_secret(value):
            raise UnsafeEventDetail(f"event detail field {path.rstrip('.')} looks like a token")
    elif isinstance(value, bytes | bytearray):
        raise UnsafeEventDetail(f"event detail field {path.rstrip('.')} is binary")


class HandOffError(RuntimeError):
    """EventBridge did not take every continuation of a refresh sweep."""
