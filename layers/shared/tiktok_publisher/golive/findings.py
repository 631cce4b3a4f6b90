"""What the operator's tools report: a finding per check, and the error for unusable input. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_publisher.domain.deployment import OperatorError

__all__ = ["Finding", "OperatorError"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One check: its name, whether it passed, and what was seen (or what to do)."""

    check: str
    ok: bool
    detail: str = ""
