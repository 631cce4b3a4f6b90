"""Per-tenant request limits (pure): what a window allows, and the 429 a refused request gets."""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_publisher.domain.errors import DomainError

WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends (0 when allowed)


class RateLimited(DomainError):
    """The tenant sent more requests of this kind in the current window than its stage allows (429).

    `headers` reach the HTTP answer (entrypoints/http/errors.py): Retry-After in seconds."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, action: str, decision: RateDecision) -> None:
        super().__init__(
            f"Too many {action} requests for this tenant: at most {decision.limit} a minute. "
            f"Retry after {decision.retry_after} s.",
            details={"limit": decision.limit, "window_s": WINDOW_S, "retry_after": decision.retry_after},
        )
        self.headers = {"Retry-After": str(decision.retry_after)}
