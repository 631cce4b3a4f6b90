"""Ports built once per warm container (behind api.ports, publishing.wiring and refresh.runtime)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from tiktok_publisher.config import get_secrets, get_settings

if TYPE_CHECKING:
    from tiktok_publisher.app_secrets import AppSecrets
    from tiktok_publisher.config import Settings

T = TypeVar("T")


class Container(Generic[T]):
    """Builds its ports on first use and keeps them while settings and secrets stay the same.

    Rebuilding on a change matters when Powertools Parameters hands back a rotated secret after its cache
    age (new client credentials must reach the TikTok client) and between tests that change the environment.
    """

    def __init__(self, build: Callable[[Settings, AppSecrets], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._key: tuple[Settings, AppSecrets] | None = None
        self._value: T | None = None

    def get(self) -> T:
        """The ports for the current settings and secrets."""
        key = (get_settings(), get_secrets())
        with self._lock:
            if self._value is None or self._key != key:
                self._value = self._build(*key)
                self._key = key
            return self._value

    def reset(self) -> None:
        """Forget the ports (tests)."""
        with self._lock:
            self._key = self._value = None
