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


class ManualClock:
    """An epoch clock that moves only when the test moves it (leases expire on it, never on the machine's
    speed). Also usable as a monotonic clock that never reaches a deadline on its own."""

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now


class HeldRefresh:
    """Wraps a TikTok client's `refresh`: the request really reaches TikTok (which rotates the refresh token
    at once), then the answer is held back from the caller until the test calls `release()`.

    This is the window the refresh race lives in: TikTok has issued new tokens, the caller has not saved
    them yet. `reached` is set when TikTok has answered; a held caller waits at most `timeout`."""

    def __init__(self, refresh: Callable[[str], Any], *, timeout: float = 60.0) -> None:
        self._refresh = refresh
        self._timeout = timeout
        self.reached = threading.Event()
        self._release = threading.Event()
        self.calls = 0

    def refresh(self, refresh_token: str) -> Any:
        self.calls += 1
        try:
            return self._refresh(refresh_token)
        finally:
            self.reached.set()
            if not self._release.wait(timeout=self._timeout):
                raise AssertionError("a held refresh was never released")

    def release(self) -> None:
        self._release.set()


class CountingRefresh:
    """Wraps a TikTok client's `refresh` and counts the calls that reached TikTok (thread-safe)."""

    def __init__(self, refresh: Callable[[str], Any]) -> None:
        self._refresh = refresh
        self._lock = threading.Lock()
        self.calls = 0

    def refresh(self, refresh_token: str) -> Any:
        with self._lock:
            self.calls += 1
        return self._refresh(refresh_token)
