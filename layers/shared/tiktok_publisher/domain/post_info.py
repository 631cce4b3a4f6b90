"""A post's `post_info` (field names follow TikTok's) and the one rule that builds what TikTok is sent from it
(TIKTOK-API.md §4, §8). Pure.

Validation (domain/post_validation.py) and the post-form contract (domain/post_form.py) read a post_info
through the same helpers: a field the caller did not give counts as "not given", whatever its default.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tiktok_publisher.domain.tiktok import CreatorInfo


class PostMode(StrEnum):
    DIRECT = "direct"  # DIRECT_POST: published by the app (video.publish)
    INBOX = "inbox"  # sent to the creator's TikTok inbox as a draft (video.upload / photo MEDIA_UPLOAD)


class MediaType(StrEnum):
    VIDEO = "video"
    PHOTO = "photo"


class PostInfo(BaseModel):
    """``post_info`` of a post request. Booleans left out (None) mean "not chosen": interactions then stay
    off (TikTok's UX: the Comment/Duet/Stitch toggles start off) and disclosure stays off.

    privacy_level is a plain string on purpose: the rules compare it with the creator's live options and say
    which ones are valid, instead of a generic enum error.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    title: str | None = None
    description: str | None = None  # photo posts only
    privacy_level: str | None = None
    disable_comment: bool | None = None
    disable_duet: bool | None = None  # video only
    disable_stitch: bool | None = None  # video only
    video_cover_timestamp_ms: int | None = Field(default=None, ge=0)  # video only
    auto_add_music: bool | None = None  # photo only
    is_aigc: bool | None = None  # video only
    # The disclosure ("commercial content") toggle; the two boxes below say what it discloses.
    commercial_content: bool | None = None
    brand_organic_toggle: bool = False  # "Your brand": promotes the creator's own business
    brand_content_toggle: bool = False  # "Branded content": promotes a third party (paid partnership)

    @property
    def disclosure_on(self) -> bool:
        """The disclosure toggle, implied on when a brand box is ticked without it."""
        if self.commercial_content is None:
            return self.brand_organic_toggle or self.brand_content_toggle
        return self.commercial_content


VIDEO_TITLE_MAX = 2200  # UTF-16 code units
PHOTO_TITLE_MAX = 90
PHOTO_DESCRIPTION_MAX = 4000
MAX_PHOTOS = 35

INTERACTIONS = (
    ("comment", "disable_comment", "comment_disabled", "Comment"),
    ("duet", "disable_duet", "duet_disabled", "Duet"),
    ("stitch", "disable_stitch", "stitch_disabled", "Stitch"),
)
ALL_FIELDS = tuple(PostInfo.model_fields)
VIDEO_ONLY = ("disable_duet", "disable_stitch", "video_cover_timestamp_ms", "is_aigc")
PHOTO_ONLY = ("description", "auto_add_music")


class PostInfoLike(Protocol):
    """Anything shaped like TikTok's post_info, read by attribute name (missing ones count as not given)."""

    title: str | None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, TikTok's unit for titles (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def field_value(info: PostInfoLike, name: str) -> Any:
    """The field's value if the caller gave it, else None (Pydantic defaults count as not given)."""
    fields_set = getattr(info, "model_fields_set", None)
    if fields_set is not None and name not in fields_set:
        return None
    return getattr(info, name, None)


def disclosure_on(info: PostInfoLike) -> bool:
    explicit = field_value(info, "commercial_content")
    if explicit is None:
        return bool(field_value(info, "brand_organic_toggle") or field_value(info, "brand_content_toggle"))
    return bool(explicit)


def tiktok_post_info(
    post_info: PostInfoLike | None,
    creator_info: CreatorInfo | None,
    *,
    media_type: MediaType | str,
    mode: PostMode | str = PostMode.DIRECT,
) -> dict[str, Any]:
    """The ``post_info`` to send to TikTok for a validated post (what the post stores, the worker sends).

    Interactions not explicitly allowed stay disabled (TikTok's UX: the toggles start off), and those the
    creator disabled are always sent disabled; fields of the other media type are left out; brand toggles
    only count with disclosure on. An inbox (draft) video takes no post_info at all (TIKTOK-API.md §4: its
    init is source_info only); a photo draft gets its title/description and the toggles, never an empty
    object (TikTok refuses an empty post_info on MEDIA_UPLOAD, §6). Without a creator_info (drafts are sent
    without one) nothing is disabled on the creator's behalf.
    """
    media_type, mode = MediaType(media_type), PostMode(mode)
    if mode is PostMode.INBOX and media_type is MediaType.VIDEO:
        return {}
    info: PostInfoLike = post_info if post_info is not None else PostInfo()
    out: dict[str, Any] = {}
    if (privacy := field_value(info, "privacy_level")) is not None:
        out["privacy_level"] = privacy
    for name in ("title", "description", "video_cover_timestamp_ms", "is_aigc", "auto_add_music"):
        allowed_here = name not in (VIDEO_ONLY if media_type is MediaType.PHOTO else PHOTO_ONLY)
        if allowed_here and (value := field_value(info, name)) is not None:
            out[name] = value
    for name, field, creator_flag, _label in INTERACTIONS:
        if media_type is MediaType.PHOTO and name != "comment":
            continue
        allowed = field_value(info, field) is False
        creator_off = creator_info is not None and bool(getattr(creator_info, creator_flag))
        out[field] = creator_off or not allowed
    disclosed = disclosure_on(info)
    out["brand_organic_toggle"] = disclosed and bool(field_value(info, "brand_organic_toggle"))
    out["brand_content_toggle"] = disclosed and bool(field_value(info, "brand_content_toggle"))
    return out
