"""Hands an unfinished sweep on: one EventBridge event per unfinished shard, so the rest runs in parallel
invocations of the refresh function (rule on the project bus, see docs/events.md).

Internal events carry only shard numbers, table keys and epoch seconds; they are not for the SaaS (which
filters on the detail-types it knows).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tiktok_publisher.adapters import aws
from tiktok_publisher.config import get_settings
from tiktok_publisher.domain.events import CONTINUATION_DETAIL_TYPE, SOURCE, HandOffError
from tiktok_publisher.domain.refresh import ShardCursor

_BATCH = 10  # PutEvents entries per call


class EventBridgeHandOff:
    """Sends continuations to EVENT_BUS_NAME."""

    def __init__(self, bus_name: str | None = None, *, client: Any = None) -> None:
        self._bus_name = bus_name
        self._client = client

    @property
    def bus_name(self) -> str:
        if self._bus_name is None:
            self._bus_name = str(get_settings().require("event_bus_name"))
        return self._bus_name

    def hand_on(self, cursors: Sequence[ShardCursor], *, horizon: int, hop: int) -> int:
        """Send one continuation per cursor; returns how many were sent, raises HandOffError otherwise."""
        client = self._client if self._client is not None else aws.client("events")
        entries = [
            {
                "Source": SOURCE,
                "DetailType": CONTINUATION_DETAIL_TYPE,
                "Detail": json.dumps(cursor.to_detail(horizon=horizon, hop=hop), separators=(",", ":")),
                "EventBusName": self.bus_name,
            }
            for cursor in cursors
        ]
        sent = 0
        for start in range(0, len(entries), _BATCH):
            batch = entries[start : start + _BATCH]
            try:
                answer = client.put_events(Entries=batch)
            except Exception as exc:  # botocore errors stay in the port
                raise HandOffError(f"continuation not sent ({type(exc).__name__})") from None
            failed = int(answer.get("FailedEntryCount", 0))
            sent += len(batch) - failed
            if failed:
                raise HandOffError(f"{failed} continuation(s) refused by EventBridge")
        return sent
