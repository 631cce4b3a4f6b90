"""Validation problems: what pure rules return and what the API turns into a 422 with field paths."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tiktok_publisher.domain.errors import InvalidInput

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused field: ``loc`` like ("body", "post_info", "privacy_level"), a message saying what to do,
    and a machine-readable ``type`` (e.g. "missing", "not_allowed", "too_long")."""

    loc: Loc
    message: str
    type: str

    @property
    def path(self) -> str:
        """Dotted path, the form the API's 422 body uses."""
        return ".".join(str(part) for part in self.loc)

    def as_field(self) -> dict[str, str]:
        """The API's per-field error shape: {"path", "type", "message"}."""
        return {"path": self.path, "type": self.type, "message": self.message}


def raise_if_problems(problems: Iterable[Problem]) -> None:
    """Raise InvalidInput (422) listing every problem, in the same shape as request validation errors."""
    found = list(problems)
    if not found:
        return
    raise InvalidInput(
        "The request has invalid fields: " + ", ".join(dict.fromkeys(p.path for p in found)) + ".",
        details={"fields": [p.as_field() for p in found]},
    )


def invalid(path: str, kind: str, message: str) -> InvalidInput:
    """An InvalidInput in the API's 422 shape (one field, with its path)."""
    return InvalidInput(
        f"The request has invalid fields: {path}. {message}",
        details={"fields": [{"path": path, "type": kind, "message": message}]},
    )
