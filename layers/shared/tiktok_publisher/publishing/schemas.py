"""Request and response bodies of the publish routes (Pydantic: validated at the edge, 422 with field paths).

Shape only; what depends on the creator (privacy options, disabled interactions, durations) is checked by
publishing/rules.py against a fresh creator_info.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tiktok_publisher.domain.post_info import PostInfo
from tiktok_publisher.publishing.uploads import MAX_VIDEO_BYTES, PHOTO_TYPES, VIDEO_TYPES

MediaContentType = Literal["video/mp4", "video/quicktime", "video/webm", "image/jpeg", "image/webp"]
assert set(MediaContentType.__args__) == set(VIDEO_TYPES) | set(PHOTO_TYPES)  # type: ignore[attr-defined]

_ID = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
_KEY = Field(min_length=1, max_length=1024)
_HTTPS = Field(min_length=9, max_length=2048, pattern=r"^https://[^\s]+$")


class UploadRequest(BaseModel):
    """POST /v1/uploads."""

    model_config = ConfigDict(extra="forbid")

    open_id: Annotated[str, _ID]
    filename: str = Field(min_length=1, max_length=255)
    content_type: MediaContentType
    size: int = Field(ge=1, le=MAX_VIDEO_BYTES)


class UploadResponse(BaseModel):
    upload_id: str
    s3_key: str
    method: Literal["PUT"]
    url: str
    headers: dict[str, str]
    expires_at: int


class _OneSource(BaseModel):
    """Exactly one of upload_id, s3_key, url."""

    model_config = ConfigDict(extra="forbid")

    upload_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    s3_key: Annotated[str | None, _KEY] = None
    url: Annotated[str | None, _HTTPS] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneSource:
        given = [name for name in ("upload_id", "s3_key", "url") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of upload_id, s3_key or url")
        return self


class VideoMedia(_OneSource):
    type: Literal["video"]


class PhotoImage(_OneSource):
    pass


class PhotoMedia(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["photo"]
    images: list[PhotoImage] = Field(min_length=1, max_length=35)
    cover_index: int = Field(default=0, ge=0, le=34)

    @model_validator(mode="after")
    def _cover_in_range(self) -> PhotoMedia:
        if self.cover_index >= len(self.images):
            raise ValueError("cover_index must point at one of the images")
        return self


class CreatePostRequest(BaseModel):
    """POST /v1/posts."""

    model_config = ConfigDict(extra="forbid")

    open_id: Annotated[str, _ID]
    mode: Literal["direct", "inbox"]
    media: Annotated[VideoMedia | PhotoMedia, Field(discriminator="type")]
    post_info: PostInfo | None = None
    # Scheduled posts (lifecycle, publishing/schedule.py): epoch seconds, at most 30 days ahead.
    publish_at: int | None = Field(default=None, ge=0, description="Publish time (epoch seconds, UTC).")


class PostView(BaseModel):
    """A post as the API shows it."""

    model_config = ConfigDict(extra="allow")

    post_id: str
    open_id: str
    mode: str
    media_type: str
    status: str
    source: dict[str, Any]
    post_info: dict[str, Any]
    publish_id: str | None = None
    transfer: str | None = None
    upload_progress: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    post_ids: list[str] = Field(default_factory=list)
    created_at: str
    updated_at: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)


class PostPage(BaseModel):
    posts: list[PostView]
    next_cursor: str | None = None
