"""Helpers that make races deterministic in integration tests (no sleeps, bounded waits)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class RefreshGate:
    """Wraps a TikTok client's `refresh`: each call waits until a second refresh arrives or another caller
    reported `done()` (bounded by `timeout`). Two on-demand refreshes of one account therefore overlap at
    TikTok whenever the code lets both get there, and the test never depends on thread timing."""

    def __init__(self, refresh: Callable[[str], Any], *, timeout: float = 10.0) -> None:
        self._refresh = refresh
        self._timeout = timeout
        self._cond = threading.Condition()
        self.arrived = 0
        self.finished = 0

    def refresh(self, refresh_token: str) -> Any:
        """The wrapped refresh (install with monkeypatch.setattr(client, "refresh", gate.refresh))."""
        with self._cond:
            self.arrived += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.arrived >= 2 or self.finished >= 1, timeout=self._timeout)
        return self._refresh(refresh_token)

    def done(self) -> None:
        """One caller finished its request (whatever the outcome)."""
        with self._cond:
            self.finished += 1
            self._cond.notify_all()


def run_together(calls: list[Callable[[], Any]], gate: RefreshGate, *, timeout: float = 60.0) -> list[Any]:
    """Run each call in its own thread, started together; their results in call order (an exception is
    returned in its place). Each thread reports `gate.done()` when its call ends."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        try:
            start.wait(timeout=timeout)
            results[index] = calls[index]()
        except Exception as exc:  # handed back to the test, which asserts on it
            results[index] = exc
        finally:
            gate.done()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a racing call did not finish"
    return results
