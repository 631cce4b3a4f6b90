"""The refresh function's logic: a full sweep, a continued one, and what happens to a sweep out of time.

The function has two triggers (template.yaml RefreshFunction):
- the RefreshSchedule "Scheduled Event": a full sweep;
- a "Refresh Sweep Continuation" event on the project bus: one shard handed on by a sweep out of time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.events import HandOffError
from tiktok_publisher.domain.refresh import (
    MAX_HOPS,
    ShardCursor,
    all_shards,
    parse_continuation,
    sweep_horizon,
)
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import SweepHandOff
from tiktok_publisher.refresh.core import TokenRefresher
from tiktok_publisher.refresh.sweep import RefreshSweep, SweepReport


def _count(name: str, value: float) -> None:
    count(name, value)


@dataclass
class RefreshRuntime:
    shards: int
    refresher: TokenRefresher
    sweep: RefreshSweep
    handoff: SweepHandOff
    clock: Callable[[], float] = time.time

    # ------------------------------------------------------------------ entry

    def continue_sweep(self, detail: Mapping[str, Any], *, time_left: Callable[[], float]) -> dict[str, Any]:
        """One shard handed on by a sweep that ran out of time (a "Refresh Sweep Continuation")."""
        try:
            continuation = parse_continuation(detail)
        except ValueError as exc:
            logger.error("sweep continuation dropped", extra={"reason": str(exc)})
            _count("RefreshContinuationMalformed", 1)
            return {"error": "malformed"}
        report = self.sweep.run([continuation.cursor], horizon=continuation.horizon, time_left=time_left)
        return self.finish(report, hop=continuation.hop)

    def run_sweep(self, *, now: int, time_left: Callable[[], float]) -> dict[str, Any]:
        """A full scheduled sweep over every shard."""
        horizon = sweep_horizon(now)
        cursors = [ShardCursor(shard) for shard in all_shards(self.shards)]
        report = self.sweep.run(cursors, horizon=horizon, time_left=time_left)
        return self.finish(report, hop=0)

    def finish(self, report: SweepReport, *, hop: int) -> dict[str, Any]:
        """Log and measure a sweep, and hand its unfinished shards on."""
        summary = report.as_dict()
        _count("RefreshDue", report.due)
        _count("RefreshIndexItemsRead", report.read)
        for outcome, value in report.outcomes.items():
            _count(f"Refresh_{outcome}", value)
        _count("RefreshFailed", report.failed)
        remaining = len(report.handed_on)
        _count("RefreshShardsRemaining", remaining)
        if remaining:
            summary["handed_on"] = self._hand_on(report, hop=hop)
        logger.info("refresh sweep finished", extra={"sweep": summary, "hop": hop})
        return summary

    def _hand_on(self, report: SweepReport, *, hop: int) -> int:
        shards = [c.shard for c in report.handed_on]
        if hop + 1 > MAX_HOPS:
            logger.error(
                "sweep out of hand-offs: the next scheduled run takes these shards",
                extra={"shards": shards, "hop": hop},
            )
            _count("RefreshShardsLeftForNextRun", len(shards))
            return 0
        try:
            sent = self.handoff.hand_on(report.handed_on, horizon=report.horizon, hop=hop + 1)
        except HandOffError as exc:
            logger.error(
                "sweep hand-off failed: the next scheduled run takes these shards",
                extra={"shards": shards, "reason": str(exc)},
            )
            _count("RefreshShardsLeftForNextRun", len(shards))
            return 0
        logger.warning("sweep out of time: shards handed on", extra={"shards": shards, "hop": hop + 1})
        _count("RefreshShardsHandedOn", sent)
        return sent
