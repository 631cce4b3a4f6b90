"""Per-tenant rate limits of the publish API (POST /v1/uploads, POST /v1/posts), configured per stage.

Uploads and posts are what one tenant can make expensive for everyone (a presigned URL each, a probe, a
creator_info call, a queued job), so each has a per-minute allowance per tenant; 0 turns a limit off.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_publisher.domain.limits import WINDOW_S, RateLimited
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import RateLimiter


@dataclass(frozen=True)
class TenantLimits:
    limiter: RateLimiter | None
    per_minute: dict[str, int]  # action ("uploads", "posts") -> allowance; 0 or absent: unlimited

    def check(self, tenant_id: str, action: str, *, now: float) -> None:
        """RateLimited (429, Retry-After) when the tenant used up this minute's allowance for `action`."""
        limit = self.per_minute.get(action, 0)
        if self.limiter is None or limit <= 0:
            return
        decision = self.limiter.hit(f"{tenant_id}#{action}", limit=limit, window_s=WINDOW_S, now=now)
        if not decision.allowed:
            logger.info("tenant rate limited", extra={"action": action, "retry_after": decision.retry_after})
            count("TenantRateLimited")
            raise RateLimited(action, decision)
