"""Cached boto3 clients shared by the ports.

Clients are created once per container (they are thread-safe; sessions are not, hence the lock) with tight
timeouts and standard retries, so a slow AWS dependency fails inside the Lambda timeout instead of at it.
AWS_ENDPOINT_URL (the local stack's moto server) is honoured by boto3 itself; we pass it explicitly as well
so a value set after import (tests) is picked up once `reset_clients()` runs.
"""

from __future__ import annotations

import os
import threading
from typing import Any

# boto3 is imported on first client(): modules that only need region()/endpoint_url() (the PynamoDB models)
# must not pay its import at cold start.
_BOTO_CONFIG_KWARGS: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 10,
    "retries": {"mode": "standard", "total_max_attempts": 3},
    "max_pool_connections": 20,
}

_lock = threading.Lock()
_session: Any = None
_clients: dict[str, Any] = {}


def region() -> str:
    """The AWS region from AWS_REGION (set by Lambda) or AWS_DEFAULT_REGION."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def endpoint_url() -> str | None:
    """The endpoint override of the local stack (AWS_ENDPOINT_URL), or None in AWS."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def client(service: str) -> Any:
    """A cached boto3 client for `service` (e.g. "kms", "s3", "events")."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    global _session
    with _lock:
        existing = _clients.get(service)
        if existing is None:
            import boto3
            from botocore.config import Config

            if _session is None:
                _session = boto3.session.Session()
            existing = _session.client(
                service,
                region_name=region(),
                endpoint_url=endpoint_url(),
                config=Config(**_BOTO_CONFIG_KWARGS),
            )
            _clients[service] = existing
        return existing


def reset_clients() -> None:
    """Drop every cached client and the session (tests switch credentials and endpoints between cases)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
