"""The refresh function's entry logic and its ports, built once per container.

The function has three triggers (template.yaml RefreshFunction):
- the RefreshSchedule "Scheduled Event" (rule name ends with -refresh-tokens): a full sweep;
- the DispatchSchedule "Scheduled Event" (rule name ends with -dispatch-posts): scheduled posts now due;
- a "Refresh Sweep Continuation" event on the project bus: one shard handed on by a sweep out of time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tiktok_publisher.config import AppSecrets, Settings
from tiktok_publisher.container import Container
from tiktok_publisher.observability import logger
from tiktok_publisher.refresh.core import TokenRefresher
from tiktok_publisher.refresh.handoff import CONTINUATION_DETAIL_TYPE, EventBridgeHandOff, HandOffError
from tiktok_publisher.refresh.policy import (
    MAX_HOPS,
    ShardCursor,
    all_shards,
    parse_continuation,
    sweep_horizon,
)
from tiktok_publisher.refresh.store import RefreshStore
from tiktok_publisher.refresh.sweep import RefreshSweep, SweepReport

# Refresh calls get tighter timeouts than publishing: a sweep must fit many of them into its budget.
REFRESH_TIKTOK_TIMEOUT: tuple[float, float] = (3.05, 8.0)
DISPATCH_RULE_SUFFIX = "-dispatch-posts"
REFRESH_RULE_SUFFIX = "-refresh-tokens"


def event_kind(event: Mapping[str, Any]) -> str:
    """Which trigger sent this event: refresh, dispatch, continuation, or unknown."""
    detail_type = event.get("detail-type")
    if detail_type == CONTINUATION_DETAIL_TYPE:
        return "continuation"
    if detail_type != "Scheduled Event":
        return "unknown"
    resources = event.get("resources") or []
    rule = str(resources[0]) if resources else ""
    if rule.endswith(DISPATCH_RULE_SUFFIX) or "DispatchSchedule" in rule:
        return "dispatch"
    # The refresh rule, or a schedule we do not recognise: a sweep is the safe default (idempotent).
    return "refresh"


def event_time(event: Mapping[str, Any]) -> int | None:
    """The minute a Scheduled Event is for (its `time`), in epoch seconds; None when absent or unreadable.

    The dispatcher runs for that minute rather than for whenever it got to run, which also makes the clock
    injectable from the event (tests invoke it with a chosen time instead of waiting for real minutes).
    """
    stamp = event.get("time")
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _count(name: str, value: float) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from tiktok_publisher.observability import metrics

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@dataclass
class RefreshRuntime:
    settings: Settings
    secrets: AppSecrets
    refresher: TokenRefresher
    sweep: RefreshSweep
    handoff: EventBridgeHandOff
    dispatcher: Any  # publishing.schedule.ScheduleDispatcher (built lazily: it pulls in publishing)
    clock: Callable[[], float] = time.time

    # ------------------------------------------------------------------ entry

    def handle(self, event: Mapping[str, Any], *, time_left: Callable[[], float]) -> dict[str, Any]:
        """Route one event of the refresh function (see module docstring)."""
        kind = event_kind(event)
        if kind == "dispatch":
            now = event_time(event) or int(self.clock())
            return {"kind": kind, **self.dispatcher.dispatch_due(now=now, time_left=time_left)}
        if kind == "continuation":
            try:
                continuation = parse_continuation(event.get("detail") or {})
            except ValueError as exc:
                logger.error("sweep continuation dropped", extra={"reason": str(exc)})
                _count("RefreshContinuationMalformed", 1)
                return {"kind": kind, "error": "malformed"}
            report = self.sweep.run([continuation.cursor], horizon=continuation.horizon, time_left=time_left)
            return {"kind": kind, **self.finish(report, hop=continuation.hop)}
        if kind == "unknown":
            logger.warning(
                "refresh function got an unknown event", extra={"detail_type": event.get("detail-type")}
            )
        return {"kind": "refresh", **self.run_sweep(now=int(self.clock()), time_left=time_left)}

    def run_sweep(self, *, now: int, time_left: Callable[[], float]) -> dict[str, Any]:
        """A full scheduled sweep over every shard."""
        horizon = sweep_horizon(now)
        cursors = [ShardCursor(shard) for shard in all_shards(self.settings.refresh_shards)]
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


def build(settings: Settings, secrets: AppSecrets) -> RefreshRuntime:
    """Every port of the refresh function, wired (fails fast naming a missing variable)."""
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.domain.schedule import build_dispatcher

    settings.require("accounts_table")
    client = TikTokClient(
        settings.tiktok_api_base,
        client_key=secrets.client_key,
        client_secret=secrets.client_secret.get_secret_value(),
        timeout=REFRESH_TIKTOK_TIMEOUT,
    )
    refresher = TokenRefresher(
        accounts=AccountRepository(refresh_shards=settings.refresh_shards),
        leases=RefreshStore(settings.accounts_table),
        client=client,
        events=EventPublisher(settings.event_bus_name),
    )
    sweep = RefreshSweep(refresher, RefreshStore(settings.accounts_table))
    return RefreshRuntime(
        settings=settings,
        secrets=secrets,
        refresher=refresher,
        sweep=sweep,
        handoff=EventBridgeHandOff(settings.event_bus_name),
        dispatcher=build_dispatcher(settings),
    )


_container: Container[RefreshRuntime] = Container(build)


def get_runtime() -> RefreshRuntime:
    """The container's refresh ports (rebuilt when settings or secrets change, e.g. between tests)."""
    return _container.get()


def reset_runtime() -> None:
    """Forget the cached ports (tests)."""
    _container.reset()
