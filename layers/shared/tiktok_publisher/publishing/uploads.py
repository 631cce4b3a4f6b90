"""Presigned S3 uploads: where a tenant's media goes, and upload ids nobody else can forge.

An upload id is a ULID plus an HMAC over (tenant, open_id, ulid) under a key derived from the state signing
secret. A post naming an upload id is therefore checked without any table: an id made for another tenant
(or account) fails the MAC and answers 404, while a genuine id whose file has not arrived yet is a post
that waits (`awaiting_upload`). Objects live under `uploads/{tenant_id}/{open_id}/{upload_id}/{filename}`,
so the tenant is part of every key we sign and every key we accept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

from ulid import ULID

from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.problems import invalid
from tiktok_publisher.ports import Accounts, MediaStore

VIDEO_TYPES = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm"}
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/webp": ".webp"}
# TikTok's limits (TIKTOK-API.md §4-§5). Decimal readings, the stricter ones.
MAX_VIDEO_BYTES = 4_000_000_000
MAX_PHOTO_BYTES = 20_000_000
UPLOAD_URL_TTL_SECONDS = 3600
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_UPLOAD_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}-[0-9a-f]{24}$")


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    s3_key: str
    url: str
    headers: dict[str, str]
    expires_at: int

    def to_dict(self) -> dict[str, Any]:
        """The API answer: where and how to PUT the file."""
        return {
            "upload_id": self.upload_id,
            "s3_key": self.s3_key,
            "method": "PUT",
            "url": self.url,
            "headers": self.headers,
            "expires_at": self.expires_at,
        }


def tenant_prefix(tenant_id: str) -> str:
    """Every object of a tenant lives below this prefix."""
    return f"uploads/{tenant_id}/"


def upload_prefix(tenant_id: str, open_id: str, upload_id: str) -> str:
    """The folder of one upload (it holds exactly one file)."""
    return f"uploads/{tenant_id}/{open_id}/{upload_id}/"


def safe_filename(filename: str, content_type: str) -> str:
    """The last path segment of `filename`, reduced to [A-Za-z0-9._-], ≤100 chars, never empty or dotted."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_CHARS.sub("_", base).strip("._")[:100]
    if not cleaned:
        cleaned = "media" + (VIDEO_TYPES.get(content_type) or PHOTO_TYPES.get(content_type) or "")
    return cleaned


def check_media_type(content_type: str, size: int, *, path: str = "") -> None:
    """Refuse what TikTok would refuse by type and size, before anything is signed (422 with field paths)."""
    prefix = f"{path}." if path else ""
    if content_type in VIDEO_TYPES:
        limit = MAX_VIDEO_BYTES
    elif content_type in PHOTO_TYPES:
        limit = MAX_PHOTO_BYTES
    else:
        allowed = ", ".join([*VIDEO_TYPES, *PHOTO_TYPES])
        raise invalid(f"{prefix}content_type", "unsupported_type", f"Use one of: {allowed}.")
    if size < 1 or size > limit:
        raise invalid(
            f"{prefix}size", "size_out_of_range", f"The file must be 1..{limit} bytes for {content_type}."
        )


class UploadIds:
    """Mints and verifies upload ids bound to (tenant, open_id)."""

    def __init__(self, secret: bytes) -> None:
        # Domain separation: the same secret also signs OAuth state, under a different derived key.
        self._key = hmac.new(secret, b"tiktok-publisher/upload-id/v1", hashlib.sha256).digest()

    def _mac(self, tenant_id: str, open_id: str, ulid: str) -> str:
        message = f"{tenant_id}\n{open_id}\n{ulid}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:24]

    def mint(self, tenant_id: str, open_id: str) -> str:
        """A fresh upload id for this tenant's account."""
        ulid = str(ULID())
        return f"{ulid}-{self._mac(tenant_id, open_id, ulid)}"

    def verify(self, upload_id: str, tenant_id: str, open_id: str) -> bool:
        """True only for ids minted for exactly this tenant and account."""
        if not _UPLOAD_ID.match(upload_id):
            return False
        ulid, mac = upload_id.split("-", 1)
        return hmac.compare_digest(mac, self._mac(tenant_id, open_id, ulid))


class UploadService:
    """POST /v1/uploads: checks, then a presigned PUT under the caller's own prefix."""

    def __init__(self, *, accounts: Accounts, store: MediaStore, ids: UploadIds) -> None:
        self._accounts = accounts
        self._store = store
        self._ids = ids

    def create(
        self,
        tenant_id: str,
        *,
        open_id: str,
        filename: str,
        content_type: str,
        size: int,
        now: float | None = None,
    ) -> UploadTicket:
        """Validate type and size, check the account is the caller's, sign a PUT for a new upload folder."""
        check_media_type(content_type, size, path="body")
        self._accounts.get(tenant_id, open_id)  # NotFound (404) for another tenant's account
        upload_id = self._ids.mint(tenant_id, open_id)
        key = upload_prefix(tenant_id, open_id, upload_id) + safe_filename(filename, content_type)
        if not key.startswith(tenant_prefix(tenant_id)):
            raise NotFound("No such account.")  # unreachable by construction; kept as the invariant's guard
        url, headers = self._store.presign_put(
            key, content_type=content_type, size=size, expires_in=UPLOAD_URL_TTL_SECONDS
        )
        issued = int(now if now is not None else time.time())
        return UploadTicket(upload_id, key, url, headers, issued + UPLOAD_URL_TTL_SECONDS)
