"""Per-token sliding-window rate limits, measured on the emulator clock."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque

from .clock import Clock


class SlidingWindowLimiter:
    """Allows at most `limit` hits per key in any `window` seconds; counts the refusals per bucket (admin
    state `rate_limited`: how often a client went over a limit, e.g. 429s per 100 posts in `make bench`)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._hits: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._refused: Counter[str] = Counter()
        self._lock = threading.Lock()

    def hit(self, token: str, bucket: str, limit: int, window: float) -> bool:
        """Record a request; False when it exceeds the limit (a refused request is not counted)."""
        now = self._clock.now()
        with self._lock:
            hits = self._hits[(token, bucket)]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                self._refused[bucket] += 1
                return False
            hits.append(now)
            return True

    def refusals(self) -> dict[str, int]:
        """Requests refused with rate_limit_exceeded since start or reset, by bucket."""
        with self._lock:
            return dict(self._refused)

    def clear(self) -> None:
        """Forget every window and refusal."""
        with self._lock:
            self._hits.clear()
            self._refused.clear()
