"""Pacing TikTok calls within TikTok's per-token limits, shared by every worker (TIKTOK-API.md §6). Pure.

TikTok counts calls per access token per endpoint in a sliding minute: init 6, creator_info 20, status 30.
Each worker used to pace only its own retries, so a burst of posts for one account, spread over many workers,
went over the limit and drew 429s (issue 12). Now every call of those kinds first takes a slot in a log of
the account's recent calls, kept in DynamoDB and shared by every function (adapters/pacing_table.py); a call
that finds the log full is not made: the worker waits its turn with an SQS delay (never a sleep), the API
answers 429 with Retry-After.

The log is per account (tenant + open_id): each connection of a TikTok user has its own tokens, and one row
holds one token at a time, so that is at least as strict as TikTok's per-token count.

Why a window log rather than a token bucket: TikTok's limit is a sliding window, and a log of the last
`limit` reservations enforces exactly that, where a bucket either allows bursts over it or wastes capacity.
The window is widened by MARGIN_S, the longest time between taking a slot and TikTok counting the call
(the init marker's write, connecting): for any minute of TikTok's clock, the calls it counts were reserved
within a WINDOW_S + MARGIN_S span of ours, which holds at most `limit` reservations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tiktok_publisher.domain.errors import DomainError

WINDOW_S = 60.0
MARGIN_S = 3.0
# Per access token, per window (TIKTOK-API.md §6; the emulator's defaults are the same numbers).
CALL_LIMITS: dict[str, int] = {"init": 6, "creator_info": 20, "status": 30}


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of asking for a slot: the new log when admitted, else how long to wait; and the queue's
    new end (`queued_until`, see :func:`admit`)."""

    times: tuple[float, ...] | None
    wait_s: float
    queued_until: float = 0.0

    @property
    def admitted(self) -> bool:
        return self.times is not None


def limit_of(call: str) -> int:
    """The per-window limit of a call kind; KeyError names an unknown one."""
    try:
        return CALL_LIMITS[call]
    except KeyError:
        raise KeyError(f"no TikTok rate limit known for {call!r}: one of {', '.join(CALL_LIMITS)}") from None


def admit(
    times: Sequence[float],
    *,
    now: float,
    limit: int,
    span: float = WINDOW_S + MARGIN_S,
    queued_until: float = 0.0,
) -> Admission:
    """One more call at `now` if fewer than `limit` of `times` fall within the last `span` seconds.

    Returns the pruned log with `now` added, or how long to wait. Times after `now` (another worker's clock a
    little ahead) count as inside the span.

    A refused caller is given a turn, not just "when the next slot frees": refused callers are spread one
    slot interval (span / limit) apart after the queue's current end, `queued_until`, which moves on with
    each of them. Without it, every caller refused in one minute would come back at the same instant, one
    would get the slot and the rest would be refused again, minute after minute. The turn is only a hint
    of when to ask again: the log alone decides who calls.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    recent = sorted(t for t in times if t > now - span)
    if len(recent) < limit:
        return Admission((*recent, now), 0.0, queued_until)
    oldest_counting = recent[len(recent) - limit]
    turn = max(oldest_counting + span, queued_until, now + 0.001)
    return Admission(None, turn - now, turn + span / limit)


def pacing_key(tenant_id: str, open_id: str, call: str) -> str:
    """The log's key: one log per account and call kind."""
    return f"{tenant_id}#{open_id}#{call}"


class CallLimitReached(DomainError):
    """An API request would make a TikTok call this account has no slot for now (429, with Retry-After)."""

    status_code = 429
    code = "tiktok_rate_limit"

    def __init__(self, call: str, wait_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(wait_s))
        self.headers = {"Retry-After": str(self.retry_after_s)}
        super().__init__(
            f"TikTok allows {limit_of(call)} {call} calls a minute per account, and this account has used "
            f"them. Try again in {self.retry_after_s} s.",
            details={"retry_after_s": self.retry_after_s, "call": call},
        )
