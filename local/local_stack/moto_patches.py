"""Where moto is looser than AWS in ways our tests must not depend on, made as strict as AWS.

Used by the local stack's moto server (moto_main) and by the tests' in-process `mock_aws` fixture, so
both imitations behave alike.

- DynamoDB: a conditional write is atomic on DynamoDB (the condition and the write happen as one step).
  moto evaluates the condition, then writes, with nothing in between holding other requests back: two
  threads (or two requests to a threaded moto server) can both pass `version = :v` and both write. Every
  DynamoDB request is therefore run under one process-wide lock. That is stricter than DynamoDB (which
  serialises per item, not per table), never looser: no outcome DynamoDB could give is ruled in.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

# Re-entrant: moto's transact/batch operations may call back into other handler methods.
DYNAMODB_LOCK = threading.RLock()


def make_dynamodb_atomic() -> None:
    """Run every moto DynamoDB request under DYNAMODB_LOCK (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    if getattr(call_action, "_atomic", False):
        return

    @functools.wraps(call_action)
    def atomic_call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return call_action(self)

    atomic_call_action._atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]
