"""Typed shapes of what TikTok answers (TIKTOK-API.md §1-§5). Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PrivacyLevel(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class PublishStatusValue(StrEnum):
    PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
    PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"


class TokenSet(BaseModel):
    """A successful token or refresh answer (flat object). Lifetimes are data, never constants."""

    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(repr=False)
    refresh_token: str = Field(repr=False)
    open_id: str
    scopes: list[str]
    expires_in: int
    refresh_expires_in: int


class UserInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    open_id: str
    union_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    username: str | None = None


class CreatorInfo(BaseModel):
    """creator_info/query data: what the creator may do right now."""

    model_config = ConfigDict(extra="ignore")

    creator_avatar_url: str | None = None
    creator_username: str | None = None
    creator_nickname: str | None = None
    privacy_level_options: list[str]
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600


class InitResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    publish_id: str
    upload_url: str | None = Field(default=None, repr=False)


class PublishStatus(BaseModel):
    """status/fetch data. Post ids are kept as exact decimal strings (int64 must not pass through float).

    `status` is a PublishStatusValue when TikTok sends a documented value, else the string it sent: a value
    the docs do not list is not a broken answer (issue 12), the worker treats it as processing.
    """

    model_config = ConfigDict(extra="ignore")

    status: PublishStatusValue | str
    fail_reason: str | None = None
    post_ids: list[str] = Field(default_factory=list)
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _documented_or_as_sent(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("status is empty")
        if isinstance(value, str) and value in PublishStatusValue.__members__:
            return PublishStatusValue(value)
        return value


# TikTok's video ids are int64 (19 digits, above 2**53): kept as their exact decimal text, never a number.
VIDEO_ID_PATTERN = r"^[0-9]{1,20}$"


class VideoStats(BaseModel):
    """One video of /v2/video/query/ (TIKTOK-API.md §2, video.list): its id as exact decimal text and its
    counts. The answer is parsed with integers kept as text, so `id` is the digits TikTok sent whether it
    wrote a string or a raw JSON number; an id that went through a float (`7.3e+18`) is refused."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=VIDEO_ID_PATTERN)
    view_count: int = Field(default=0, ge=0)
    like_count: int = Field(default=0, ge=0)
    comment_count: int = Field(default=0, ge=0)
    share_count: int = Field(default=0, ge=0)


class UserStats(BaseModel):
    """The user.info.stats fields of /v2/user/info/."""

    model_config = ConfigDict(extra="ignore")

    follower_count: int = Field(default=0, ge=0)
    following_count: int = Field(default=0, ge=0)
    likes_count: int = Field(default=0, ge=0)
    video_count: int = Field(default=0, ge=0)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """Answer to one chunk PUT: 206 more expected, 201 complete, 4xx/5xx see TIKTOK-API.md §5.

    received_last is LAST from `Content-Range: bytes 0-LAST/TOTAL` (None when absent).
    """

    status_code: int
    received_last: int | None
    total: int | None = None
    error_code: str | None = None
    log_id: str | None = None

    @property
    def complete(self) -> bool:
        """TikTok has every byte (201)."""
        return self.status_code == 201
