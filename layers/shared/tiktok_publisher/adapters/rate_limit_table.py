"""Per-tenant request windows in DynamoDB (RATE_LIMITS_TABLE): the RateLimiter port.

One item per tenant, action and fixed window, counted with one conditional UpdateItem (ADD hits 1 if
hits < limit), so concurrent requests in every Lambda container share the count and exactly `limit` of
them get through.
Items expire by TTL a minute after their window.
"""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from tiktok_publisher.adapters.dynamodb import RateLimitModel, StoreError, is_condition_failure
from tiktok_publisher.domain.limits import RateDecision

# TTL margin after the window's end (DynamoDB deletes lazily anyway; a late delete only costs storage).
_TTL_MARGIN_S = 60


class DynamoRateLimiter:
    """Fixed-window counters shared by every container."""

    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> RateDecision:
        """Count one request under `key` in the current window; refused once `limit` were counted."""
        start = int(now) - int(now) % window_s
        ends = start + window_s
        item = RateLimitModel(f"{key}#{start}")
        try:
            item.update(
                actions=[RateLimitModel.hits.add(1), RateLimitModel.expires_at.set(ends + _TTL_MARGIN_S)],
                condition=RateLimitModel.hits.does_not_exist() | (RateLimitModel.hits < limit),
            )
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                return RateDecision(
                    allowed=False, limit=limit, remaining=0, retry_after=max(1, ends - int(now))
                )
            raise StoreError.wrap("count a request", exc) from None
        used = int(item.hits or limit)
        return RateDecision(allowed=True, limit=limit, remaining=max(0, limit - used), retry_after=0)
