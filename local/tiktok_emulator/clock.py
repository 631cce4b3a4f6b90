"""An injectable clock: wall time plus an offset that tests move forward instead of sleeping."""

from __future__ import annotations

import threading
import time


class Clock:
    """Emulator time. Every expiry, rate-limit window and processing delay is measured on it."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current emulator time as epoch seconds."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backward) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        """Seconds the clock runs ahead of wall time."""
        with self._lock:
            return self._offset

    def reset(self) -> None:
        """Back to wall time."""
        with self._lock:
            self._offset = 0.0
