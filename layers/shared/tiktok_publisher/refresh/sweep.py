"""The scheduled refresh sweep: read the sparse refresh_due index shard by shard, refresh with bounded
concurrency, and hand whatever the time budget does not cover to another invocation.

Only due accounts are read (the key condition is `refresh_due_at < horizon` on an index holding active
accounts only; refresh_due_at = refresh_expires_at - 30 days, or earlier when a feature needs a live token,
domain.accounts.refresh_due_at_for), so a table of any size costs what is due: grants nearing their end,
not access tokens (those are refreshed on demand before a TikTok call).

Items are refreshed by a thread pool of `concurrency` workers; before each new item the remaining
invocation time is checked, and when it falls under `reserve_s` no new refresh starts: in-flight ones
finish, and every unfinished shard is handed on with its cursor (the last account started), so nothing is
skipped silently.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from tiktok_publisher.domain.refresh import DueAccount, ShardCursor, due_in_sweep
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import RefreshDueIndex
from tiktok_publisher.refresh.core import Outcome, RefreshResult, TokenRefresher

DEFAULT_CONCURRENCY = 8
DEFAULT_PAGE_SIZE = 100
# Enough for the in-flight refreshes to finish (client timeouts 3.05 s + 8 s) and the hand-off to be sent.
DEFAULT_RESERVE_S = 20.0


@dataclass
class SweepReport:
    """What one invocation did. `read` is what DynamoDB read from the index; `due` what it returned."""

    horizon: int
    read: int = 0
    due: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # unexpected errors (storage, decryption): left for the next run
    shards_done: list[str] = field(default_factory=list)
    handed_on: list[ShardCursor] = field(default_factory=list)
    elapsed_s: float = 0.0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def refreshed(self) -> int:
        return self.outcomes.get(Outcome.REFRESHED.value, 0)

    def as_dict(self) -> dict[str, object]:
        """Log/return form."""
        return {
            "horizon": self.horizon,
            "read": self.read,
            "due": self.due,
            "refreshed": self.refreshed,
            "outcomes": dict(sorted(self.outcomes.items())),
            "failed": self.failed,
            "shards_done": list(self.shards_done),
            "shards_handed_on": [c.shard for c in self.handed_on],
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass
class RefreshSweep:
    refresher: TokenRefresher
    index: RefreshDueIndex
    concurrency: int = DEFAULT_CONCURRENCY
    page_size: int = DEFAULT_PAGE_SIZE
    reserve_s: float = DEFAULT_RESERVE_S
    clock: Callable[[], float] = time.time

    def run(
        self, cursors: Iterable[ShardCursor], *, horizon: int, time_left: Callable[[], float]
    ) -> SweepReport:
        """Sweep the given shards (each from its cursor) until done or out of time; see module docstring."""
        started = time.monotonic()
        report = SweepReport(horizon=horizon)
        pending = list(cursors)
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency), thread_name_prefix="refresh") as pool:
            in_flight: set[Future[RefreshResult]] = set()
            while pending:
                cursor = pending[0]
                stopped, cursor = self._sweep_shard(pool, in_flight, cursor, horizon, time_left, report)
                self._drain(in_flight, report, until=0)
                if stopped:
                    report.handed_on = [cursor, *pending[1:]]
                    break
                report.shards_done.append(cursor.shard)
                pending.pop(0)
        report.elapsed_s = time.monotonic() - started
        return report

    def _sweep_shard(
        self,
        pool: ThreadPoolExecutor,
        in_flight: set[Future[RefreshResult]],
        cursor: ShardCursor,
        horizon: int,
        time_left: Callable[[], float],
        report: SweepReport,
    ) -> tuple[bool, ShardCursor]:
        """Refresh one shard's due accounts. Returns (out_of_time, cursor of the last account started)."""
        while True:
            if time_left() < self.reserve_s:
                return True, cursor
            page = self.index.due_page(cursor, before=horizon, limit=self.page_size)
            report.read += page.scanned
            for item in page.items:
                if time_left() < self.reserve_s:
                    return True, cursor
                self._drain(in_flight, report, until=self.concurrency - 1)
                report.due += 1
                in_flight.add(pool.submit(self._refresh_one, item, horizon))
                cursor = ShardCursor(cursor.shard, item.position)
            if not page.more:
                return False, cursor

    def _refresh_one(self, item: DueAccount, horizon: int) -> RefreshResult:
        now = int(self.clock())
        return self.refresher.refresh(
            item.tenant_id,
            item.open_id,
            now=now,
            expected_version=item.version,
            due=lambda a: due_in_sweep(
                a.access_expires_at, a.refresh_expires_at, horizon=horizon, fresh_token_by=a.fresh_token_by
            ),
        )

    @staticmethod
    def _drain(in_flight: set[Future[RefreshResult]], report: SweepReport, *, until: int) -> None:
        """Wait until at most `until` refreshes are in flight, counting the finished ones."""
        while len(in_flight) > until:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                in_flight.discard(future)
                try:
                    report.count(future.result().outcome.value)
                except Exception as exc:
                    report.failed += 1
                    logger.warning("refresh of one account failed", extra={"error_class": type(exc).__name__})
