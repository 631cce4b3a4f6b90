"""What the emulator remembers: codes, grants, tokens, uploads, posts. Kept for tests to inspect."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

TERMINAL = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"})


@dataclass
class AuthCode:
    """An authorization code from the consent page; single use, short lived."""

    code: str
    client_key: str
    open_id: str
    scopes: list[str]
    redirect_uri: str
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class Grant:
    """One authorization of the app by one user; its tokens live and die together on revoke."""

    grant_id: str
    open_id: str
    scopes: list[str]
    created_at: float
    revoked: bool = False


@dataclass
class AccessToken:
    """A bearer token. `expires_at` is what `expires_in` stated; `dies_at` is when it really stops working
    (earlier with access_ttl_actual, or "now" once ended early through the admin API)."""

    token: str
    grant_id: str
    open_id: str
    scopes: list[str]
    issued_at: float
    expires_at: float
    dies_at: float | None = None
    revoked: bool = False
    ended_early: bool = False

    def live(self, now: float) -> bool:
        """Usable at `now`."""
        dies_at = self.expires_at if self.dies_at is None else min(self.expires_at, self.dies_at)
        return not self.revoked and not self.ended_early and now < dies_at


@dataclass
class RefreshToken:
    """A refresh token; `rotated` once it has been exchanged (strict rotation)."""

    token: str
    grant_id: str
    open_id: str
    scopes: list[str]
    issued_at: float
    expires_at: float
    rotated: bool = False
    revoked: bool = False


@dataclass
class Upload:
    """A FILE_UPLOAD transfer: chunk progress and the file the bytes stream into."""

    upload_id: str
    upload_token: str
    publish_id: str
    video_size: int
    chunk_size: int
    total_chunk_count: int
    expires_at: float
    path: str
    chunks_received: int = 0
    received_bytes: int = 0
    content_type: str | None = None
    hasher: Any = field(default_factory=hashlib.sha256, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def complete(self) -> bool:
        """All chunks are in."""
        return self.chunks_received >= self.total_chunk_count

    def expected_range(self) -> tuple[int, int]:
        """Inclusive byte range the next chunk must cover; the remainder rides on the last chunk."""
        first = self.chunks_received * self.chunk_size
        if self.chunks_received == self.total_chunk_count - 1:
            return first, self.video_size - 1
        return first, first + self.chunk_size - 1

    def to_dict(self) -> dict[str, Any]:
        """Admin view (the upload token is a secret of the URL and stays out)."""
        return {
            "upload_id": self.upload_id,
            "publish_id": self.publish_id,
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
            "chunks_received": self.chunks_received,
            "received_bytes": self.received_bytes,
            "content_type": self.content_type,
            "expires_at": self.expires_at,
            "complete": self.complete,
            "path": self.path,
        }


@dataclass
class Post:
    """A publish task from init to its final state."""

    publish_id: str
    open_id: str
    account: str
    grant_id: str
    mode: str  # "direct" | "inbox"
    media: str  # "video" | "photo"
    source: str  # "FILE_UPLOAD" | "PULL_FROM_URL"
    post_info: dict[str, Any]
    source_info: dict[str, Any]
    created_at: float
    status: str
    files: list[str] = field(default_factory=list)
    fail_reason: str | None = None
    uploaded_bytes: int = 0
    downloaded_bytes: int = 0
    transfer_done_at: float | None = None
    completed_at: float | None = None
    public_post_ids: list[int] = field(default_factory=list)
    public_at: float | None = None
    # Inbox drafts: how the user finished it in the app ("posted" / "discarded"), and when.
    draft_outcome: str | None = None
    draft_finished_at: float | None = None
    sha256: str | None = None
    upload_id: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def terminal(self) -> bool:
        """No further status change can happen (except becoming publicly available)."""
        return self.status in TERMINAL

    @property
    def publish_type(self) -> str:
        """Webhook publish_type."""
        return "DIRECT_PUBLISH" if self.mode == "direct" else "INBOX_SHARE"

    @property
    def is_public(self) -> bool:
        """Posted visible to everyone (directly, or by the user from the inbox): the only kind that gets
        public post ids."""
        posted = self.mode == "direct" or self.draft_outcome == "posted"
        return posted and self.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE"

    @property
    def pending_draft(self) -> bool:
        """An inbox share the user still holds: not FAILED, not yet posted or discarded in the app."""
        return self.mode == "inbox" and self.status != "FAILED" and self.draft_outcome is None

    def to_dict(self) -> dict[str, Any]:
        """Admin view."""
        return {
            "publish_id": self.publish_id,
            "open_id": self.open_id,
            "account": self.account,
            "mode": self.mode,
            "media": self.media,
            "source": self.source,
            "post_info": self.post_info,
            "source_info": self.source_info,
            "created_at": self.created_at,
            "status": self.status,
            "fail_reason": self.fail_reason,
            "uploaded_bytes": self.uploaded_bytes,
            "downloaded_bytes": self.downloaded_bytes,
            "transfer_done_at": self.transfer_done_at,
            "completed_at": self.completed_at,
            "publicaly_available_post_id": self.public_post_ids,
            "public_at": self.public_at,
            "draft_outcome": self.draft_outcome,
            "draft_finished_at": self.draft_finished_at,
            "files": self.files,
            "sha256": self.sha256,
            "upload_id": self.upload_id,
        }


class Store:
    """All mutable records behind one re-entrant lock (requests run on many threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.uploads: dict[str, Upload] = {}
        self.posts: dict[str, Post] = {}

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            for post in self.posts.values():
                post.cancel.set()
            self.codes.clear()
            self.grants.clear()
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.uploads.clear()
            self.posts.clear()

    def posts_of(self, open_id: str, since: float) -> list[Post]:
        """Posts a user created since a time."""
        with self.lock:
            return [p for p in self.posts.values() if p.open_id == open_id and p.created_at >= since]

    def active_users(self, since: float) -> set[str]:
        """Users who created any post since a time."""
        with self.lock:
            return {p.open_id for p in self.posts.values() if p.created_at >= since}

    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready, for the admin API. Secrets included: this is a test double."""
        with self.lock:
            return {
                "codes": [vars_of(c) for c in self.codes.values()],
                "grants": [vars_of(g) for g in self.grants.values()],
                "access_tokens": [vars_of(t) for t in self.access_tokens.values()],
                "refresh_tokens": [vars_of(t) for t in self.refresh_tokens.values()],
                "uploads": [u.to_dict() for u in self.uploads.values()],
                "posts": [p.to_dict() for p in self.posts.values()],
            }


def vars_of(obj: Any) -> dict[str, Any]:
    """Plain dataclass fields as a dict."""
    return dict(vars(obj))
