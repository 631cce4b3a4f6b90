"""A post as the domain sees it: its statuses, its public view, and the marker of an attribute that must not
exist in a conditional change. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PostStatus(StrEnum):
    """DESIGN.md §3, plus `unconfirmed`: TikTok may or may not have the post, and we never re-post."""

    AWAITING_UPLOAD = "awaiting_upload"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    INBOX = "inbox"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNCONFIRMED = "unconfirmed"


# No worker step applies to a post in one of these.
TERMINAL = frozenset(
    {PostStatus.INBOX, PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.CANCELLED, PostStatus.UNCONFIRMED}
)
HISTORY_LIMIT = 50


def iso_now(now: float) -> str:
    """ISO-8601 UTC with milliseconds: sorts as text, which the by_account index relies on."""
    stamp = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass
class Post:
    """One post as the domain sees it (no PynamoDB types)."""

    tenant_id: str
    post_id: str
    open_id: str
    created_at: str
    mode: str
    media: str
    status: PostStatus
    source: dict[str, Any] = field(default_factory=dict)
    post_info: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    upload_id: str | None = None
    publish_id: str | None = None
    transfer: str | None = None
    upload_progress: dict[str, Any] = field(default_factory=dict)
    fail_reason: dict[str, Any] | None = None
    post_ids: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    version: int = 0
    updated_at: str | None = None
    init_started_at: int | None = None
    init_token: str | None = None
    status_deadline: int | None = None
    reconcile_until: int | None = None
    publish_at: int | None = None

    @property
    def terminal(self) -> bool:
        """No worker step applies any more."""
        return self.status in TERMINAL

    def to_api(self) -> dict[str, Any]:
        """The public view: no upload URL (a capability), no internal markers."""
        progress = {k: v for k, v in self.upload_progress.items() if k != "upload_url"}
        return {
            "post_id": self.post_id,
            "open_id": self.open_id,
            "mode": self.mode,
            "media_type": self.media,
            "status": self.status,
            "source": _public_source(self.source),
            "post_info": self.post_info,
            "publish_id": self.publish_id,
            "transfer": self.transfer,
            "upload_progress": progress or None,
            "error": self.fail_reason,
            "post_ids": list(self.post_ids),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "history": self.history,
            "publish_at": self.publish_at,
        }


def _public_source(source: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if k not in {"pull_refused"}}


class Absent:
    """Marker for "this attribute must not exist" in expectations."""


ABSENT = Absent()
