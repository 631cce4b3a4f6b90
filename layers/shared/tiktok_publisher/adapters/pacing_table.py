"""PacingTable: the shared log of each account's recent TikTok calls (domain/pacing.py), on PACING_TABLE.

`reserve` reads the log (strongly consistent), asks the pure policy whether one more call fits, and writes
the new log conditional on the version it read. Of several workers reserving at once exactly one write wins
per version; the others read again, so no two callers ever take the same slot. DynamoDB TTL removes a log
a few minutes after its last call.
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
            admission = admit(times, now=now, limit=limit)
            if admission.times is None:
                return admission.wait_s
            version = int(item.version) if item is not None else 0
            fresh = PacingModel(
                key,
                times=list(admission.times),
                version=version + 1,
                expires_at=int(now + WINDOW_S + TTL_S),
            )
            condition = (
                PacingModel.version == version if item is not None else PacingModel.key.does_not_exist()
            )
            try:
                fresh.save(condition=condition)
            except PynamoDBException as exc:
                if is_condition_failure(exc):
                    continue  # another caller took a slot since our read: read again
                raise StoreError.wrap("reserve a TikTok call slot", exc) from None
            return 0.0
        logger.warning("call pacing contended", extra={"call": call, "tries": MAX_CONTENDED_TRIES})
        return CONTENDED_WAIT_S
