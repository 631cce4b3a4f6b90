"""Signed webhook events, delivered in order from a background thread with bounded retries."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from .clock import Clock
from .config import EmulatorConfig


def signature_header(client_secret: str, timestamp: int, raw_body: str) -> str:
    """`TikTok-Signature` value: t=<unix>,s=hex(HMAC-SHA256(secret, "t.body"))."""
    mac = hmac.new(client_secret.encode(), f"{timestamp}.{raw_body}".encode(), hashlib.sha256)
    return f"t={timestamp},s={mac.hexdigest()}"


@dataclass
class Delivery:
    """One event and what happened when it was sent."""

    id: int
    generation: int
    event: str
    user_openid: str
    content: dict[str, Any]
    body: str
    url: str | None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Admin view."""
        return {k: v for k, v in vars(self).items() if k != "generation"}


class WebhookDispatcher:
    """Queues events and posts them to the configured URL; every event is recorded, sent or not."""

    def __init__(self, clock: Clock, config: Callable[[], EmulatorConfig]) -> None:
        self._clock = clock
        self._config = config
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._records: list[Delivery] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._generation = 0
        self._stop = threading.Event()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="tiktok-emulator-webhooks", daemon=True)

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering (pending events are dropped)."""
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._session.close()

    def emit(self, event: str, open_id: str, content: dict[str, Any]) -> None:
        """Record an event and queue it for delivery when a webhook URL is configured."""
        config = self._config()
        body = json.dumps(
            {
                "client_key": config.client_key,
                "event": event,
                "create_time": int(self._clock.now()),
                "user_openid": open_id,
                "content": json.dumps(content),
            }
        )
        with self._lock:
            delivery = Delivery(
                next(self._ids), self._generation, event, open_id, content, body, config.webhook_url
            )
            self._records.append(delivery)
        if delivery.url:
            self._queue.put(delivery)
        else:
            delivery.done = True

    def records(self) -> list[dict[str, Any]]:
        """Every event of this generation (admin view)."""
        with self._lock:
            return [d.to_dict() for d in self._records]

    def reset(self) -> None:
        """Forget recorded events; queued ones from before are skipped."""
        with self._lock:
            self._generation += 1
            self._records.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            delivery = self._queue.get()
            if delivery is None:
                return
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        config = self._config()
        for attempt in range(max(1, config.webhook_max_attempts)):
            if self._stop.is_set() or delivery.generation != self._generation:
                break
            if attempt:
                delays = config.webhook_retry_delays or [1.0]
                if self._stop.wait(delays[min(attempt - 1, len(delays) - 1)]):
                    break
            timestamp = int(self._clock.now())
            headers = {
                "Content-Type": "application/json",
                "TikTok-Signature": signature_header(config.client_secret, timestamp, delivery.body),
            }
            record: dict[str, Any] = {"at": self._clock.now(), "timestamp": timestamp}
            try:
                response = self._session.post(
                    str(delivery.url),
                    data=delivery.body.encode(),
                    headers=headers,
                    timeout=config.webhook_timeout,
                    allow_redirects=False,
                )
                record["status"] = response.status_code
                ok = 200 <= response.status_code < 300
            except requests.RequestException as exc:
                record["error"] = type(exc).__name__
                ok = False
            delivery.attempts.append(record)
            if ok:
                delivery.delivered = True
                break
        delivery.done = True
