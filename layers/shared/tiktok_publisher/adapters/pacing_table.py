"""PacingTable: the shared log of each account's recent TikTok calls (domain/pacing.py), on PACING_TABLE.

`reserve` reads the log (strongly consistent), asks the pure policy whether one more call fits, and writes
the new log (or, for a caller that must wait, the queue's new end) conditional on the version it read. Of
several workers reserving at once exactly one write wins per version; the others read again, so no two
callers ever take the same slot. DynamoDB TTL removes a log a few minutes after its last call.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from tiktok_publisher.adapters.dynamodb import PacingModel, StoreError, is_condition_failure
from tiktok_publisher.domain.pacing import WINDOW_S, admit, limit_of, pacing_key
from tiktok_publisher.observability import logger

# Lost races before giving up for now (each lost race means another caller took a slot meanwhile).
MAX_CONTENDED_TRIES = 8
CONTENDED_WAIT_S = 1.0
TTL_S = 10 * 60


class PacingTable:
    """The CallPacer port on DynamoDB."""

    def reserve(self, tenant_id: str, open_id: str, call: str, *, now: float) -> float:
        """Take one `call` slot of this account at `now`: 0.0 when taken, else the seconds to wait before
        asking again (nothing taken)."""
        limit = limit_of(call)
        key = pacing_key(tenant_id, open_id, call)
        for _ in range(MAX_CONTENDED_TRIES):
            try:
                item = PacingModel.get(key, consistent_read=True)
            except DoesNotExist:
                item = None
            except PynamoDBException as exc:
                raise StoreError.wrap("read call pacing", exc) from None
            times = [float(t) for t in (item.times or [])] if item is not None else []
            queued_until = float(item.queued_until or 0) if item is not None else 0.0
            admission = admit(times, now=now, limit=limit, queued_until=queued_until)
            version = int(item.version) if item is not None else 0
            fresh = PacingModel(
                key,
                # A refused caller changes only the queue's end: its turn (see domain.pacing.admit).
                times=list(admission.times) if admission.times is not None else times,
                queued_until=admission.queued_until,
                version=version + 1,
                expires_at=int(max(now, admission.queued_until) + WINDOW_S + TTL_S),
            )
            condition = (
                PacingModel.version == version if item is not None else PacingModel.key.does_not_exist()
            )
            try:
                fresh.save(condition=condition)
            except PynamoDBException as exc:
                if is_condition_failure(exc):
                    continue  # another caller took a slot (or a turn) since our read: read again
                raise StoreError.wrap("reserve a TikTok call slot", exc) from None
            return admission.wait_s
        logger.warning("call pacing contended", extra={"call": call, "tries": MAX_CONTENDED_TRIES})
        return CONTENDED_WAIT_S
