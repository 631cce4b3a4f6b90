"""Request and response bodies of the publish routes (Pydantic: validated at the edge, 422 with field paths).

Shape only; what depends on the creator (privacy options, disabled interactions, durations) is checked by
publishing/rules.py against a fresh creator_info.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tiktok_publisher.domain.post_info import PostInfo
from tiktok_publisher.publishing.uploads import MAX_PHOTO_BYTES, MAX_VIDEO_BYTES, PHOTO_TYPES, VIDEO_TYPES

MediaContentType = Literal["video/mp4", "video/quicktime", "video/webm", "image/jpeg", "image/webp"]
assert set(MediaContentType.__args__) == set(VIDEO_TYPES) | set(PHOTO_TYPES)  # type: ignore[attr-defined]

_ID = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
_KEY = Field(min_length=1, max_length=1024)
_HTTPS = Field(min_length=9, max_length=2048, pattern=r"^https://[^\s]+$")


class UploadRequest(BaseModel):
    """POST /v1/uploads."""

    # TikTok's photo limit, in the schema too (the video limit is the field's maximum).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {
                "properties": {"content_type": {"enum": sorted(PHOTO_TYPES)}},
                "required": ["content_type"],
            },
            "then": {"properties": {"size": {"maximum": MAX_PHOTO_BYTES}}},
        },
    )

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


# The rule below as JSON Schema, so the OpenAPI document says it too: exactly one of the three keys present.
# The fields are not nullable: an explicit null is not "absent" (it is refused, as the schema says).
_EXACTLY_ONE_SOURCE: dict[str, Any] = {
    "oneOf": [
        {"required": ["upload_id"]},
        {"required": ["s3_key"]},
        {"required": ["url"]},
    ]
}


class _OneSource(BaseModel):
    """Exactly one of upload_id, s3_key, url."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_EXACTLY_ONE_SOURCE)

    upload_id: str = Field(default=None, min_length=1, max_length=128)  # type: ignore[assignment]
    s3_key: str = Field(default=None, min_length=1, max_length=1024)  # type: ignore[assignment]
    url: str = Field(default=None, min_length=9, max_length=2048, pattern=r"^https://[^\s]+$")  # type: ignore[assignment]

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


def _no_nulls_at_least_one(schema: dict[str, Any]) -> None:
    """JSON schema of a body whose fields are each optional but never null, and one of them required."""
    for prop in schema.get("properties", {}).values():
        options = prop.pop("anyOf", None)
        if options is not None:
            (kept,) = [o for o in options if o.get("type") != "null"]
            prop.update(kept)
        prop.pop("default", None)
    schema["minProperties"] = 1


class UpdatePostRequest(BaseModel):
    """PATCH /v1/posts/{post_id}: a new publish time, a new post_info, or both, for a `scheduled` post."""

    # The document says what the validator below enforces: at least one field, none of them null.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_nulls_at_least_one)

    publish_at: int | None = Field(
        default=None, ge=0, description="New publish time (epoch seconds, UTC), at most 30 days ahead."
    )
    post_info: PostInfo | None = Field(
        default=None,
        description="The whole new post_info (it replaces the old one), checked like a new post.",
    )

    @model_validator(mode="after")
    def _something(self) -> UpdatePostRequest:
        given = {name for name in self.model_fields_set if getattr(self, name) is not None}
        if not given:
            raise ValueError("give publish_at, post_info or both")
        return self


class Attempt(BaseModel):
    """One attempt at publishing a post: a retry starts a new one."""

    model_config = ConfigDict(extra="allow")

    number: int
    status: str
    publish_id: str | None = None
    transfer: str | None = None
    error: dict[str, Any] | None = None
    started_at: str
    ended_at: str | None = None


class RetryInfo(BaseModel):
    """Whether POST /v1/posts/{post_id}/retry may start a new attempt, and why (not)."""

    allowed: bool
    code: str = Field(description="retry_allowed, post_unconfirmed, post_not_retryable or too_many_attempts.")
    reason: str


class VideoReading(BaseModel):
    video_id: str = Field(description="TikTok's video id (int64) as a string.")
    view_count: int
    like_count: int
    comment_count: int
    share_count: int


class PostReading(BaseModel):
    """The latest counts read from TikTok (GET /v1/posts/{post_id}/metrics reads them anew when due)."""

    read_at: str
    view_count: int
    like_count: int
    comment_count: int
    share_count: int
    videos: list[VideoReading] = Field(default_factory=list)


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
    publish_at: int | None = None
    attempts: list[Attempt] = Field(
        default_factory=list,
        description="Every attempt at publishing, oldest first; the last is the current one.",
    )
    retry: RetryInfo | None = Field(None, description="For a failed or unconfirmed post.")
    metrics: PostReading | None = Field(None, description="The latest counts, when metrics are enabled.")


class PostPage(BaseModel):
    posts: list[PostView]
    next_cursor: str | None = None
