"""Request shapes of a post that the publishing rules validate (field names follow TikTok's post_info)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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
