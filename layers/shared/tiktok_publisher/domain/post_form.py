"""The post-form contract: what a direct-post form must show, per TikTok's content sharing guidelines
(TIKTOK-API.md §8): no privacy default, greyed-out interactions, disclosure labels and the declarations, so
every client renders the same audited form. Pure.
"""

from __future__ import annotations

from typing import Any

from tiktok_publisher.domain.post_info import (
    INTERACTIONS,
    MAX_PHOTOS,
    PHOTO_DESCRIPTION_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_TITLE_MAX,
    MediaType,
    PostInfoLike,
    disclosure_on,
    field_value,
)
from tiktok_publisher.domain.tiktok import CreatorInfo, PrivacyLevel

DISCLOSURE_REQUIRED = "You need to indicate if your content promotes yourself, a third party, or both."
MUSIC_DECLARATION = "By posting, you agree to TikTok's Music Usage Confirmation"
BRANDED_DECLARATION = "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation"
LABEL_YOUR_BRAND = "Promotional content"
LABEL_BRANDED_CONTENT = "Paid partnership"
BRANDED_NOT_PRIVATE = "Branded content visibility cannot be set to private."
MUSIC_USAGE_URL = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED_CONTENT_POLICY_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"
PROCESSING_NOTICE = (
    "After you post, TikTok may take a few minutes to process your content before it appears on your profile."
)
UNAUDITED_REASON = (
    "This app hasn't been audited by TikTok yet. Until it is, TikTok only accepts posts visible to the "
    "creator alone (Only me / SELF_ONLY), and only from TikTok accounts that are set to private."
)

PRIVACY_LABELS: dict[str, str] = {
    PrivacyLevel.PUBLIC_TO_EVERYONE.value: "Everyone",
    PrivacyLevel.MUTUAL_FOLLOW_FRIENDS.value: "Friends",
    PrivacyLevel.FOLLOWER_OF_CREATOR.value: "Followers",
    PrivacyLevel.SELF_ONLY.value: "Only me",
}


def account_is_public(creator_info: CreatorInfo) -> bool:
    """TikTok offers PUBLIC_TO_EVERYONE only to public accounts (private ones get FOLLOWER_OF_CREATOR)."""
    return PrivacyLevel.PUBLIC_TO_EVERYONE in creator_info.privacy_level_options


def disclosure_label(post_info: PostInfoLike) -> str | None:
    """The label TikTok puts on the post: "Paid partnership" when branded content is ticked (alone or with
    "Your brand"), "Promotional content" for "Your brand" alone, else None."""
    if not disclosure_on(post_info):
        return None
    if field_value(post_info, "brand_content_toggle"):
        return LABEL_BRANDED_CONTENT
    if field_value(post_info, "brand_organic_toggle"):
        return LABEL_YOUR_BRAND
    return None


def declaration_text(*, branded_content: bool) -> str:
    """The sentence shown above the publish button."""
    return BRANDED_DECLARATION if branded_content else MUSIC_DECLARATION


def post_form_contract(
    creator_info: CreatorInfo,
    *,
    audited: bool,
    media_type: MediaType | str,
) -> dict[str, Any]:
    """What a direct-post form must show, per TikTok's content sharing guidelines (TIKTOK-API.md §8).

    JSON-ready: creator identity, privacy options with no default (and which are unavailable, and why),
    interaction toggles (off by default; greyed out when the creator disabled them), limits, the commercial
    disclosure block with its labels and help texts, and the declaration above the publish button.
    """
    media_type = MediaType(media_type)
    options = list(creator_info.privacy_level_options)
    privacy_options = []
    for value in options:
        unavailable = None if audited or value == PrivacyLevel.SELF_ONLY else UNAUDITED_REASON
        privacy_options.append(
            {
                "value": value,
                "label": PRIVACY_LABELS.get(value, value),
                "disabled": unavailable is not None,
                "disabled_reason": unavailable,
                # Greyed out (with this hover text) while "Branded content" is ticked.
                "disabled_when_branded_content": value == PrivacyLevel.SELF_ONLY,
                "branded_content_hint": BRANDED_NOT_PRIVATE if value == PrivacyLevel.SELF_ONLY else None,
            }
        )
    interactions = {}
    for name, field, creator_flag, label in INTERACTIONS:
        if media_type is MediaType.PHOTO and name != "comment":
            continue
        disabled = bool(getattr(creator_info, creator_flag))
        interactions[name] = {
            "label": f"Allow {label}",
            "field": field,
            "allowed_by_default": False,
            "disabled": disabled,
            "disabled_reason": f"{label} is turned off in this creator's TikTok settings."
            if disabled
            else None,
        }
    can_post = audited or not account_is_public(creator_info)
    contract: dict[str, Any] = {
        "media_type": media_type.value,
        "creator": {
            "nickname": creator_info.creator_nickname,
            "username": creator_info.creator_username,
            "avatar_url": creator_info.creator_avatar_url,
        },
        "can_post": can_post,
        "cannot_post_reason": None if can_post else UNAUDITED_REASON + " This account is public.",
        "app_audited": audited,
        "audit_notice": None if audited else UNAUDITED_REASON,
        "privacy_level": {"required": True, "default": None, "options": privacy_options},
        "interactions": interactions,
        "title": {
            "max_length": PHOTO_TITLE_MAX if media_type is MediaType.PHOTO else VIDEO_TITLE_MAX,
            "unit": "utf16",
        },
        "commercial_content": {
            "label": "Disclose post content",
            "default": False,
            "help": (
                "Turn on to disclose that this post promotes goods or services in exchange for something of "
                "value. Your post could promote yourself, a third party, or both."
            ),
            "required_choice_message": DISCLOSURE_REQUIRED,
            "options": {
                "brand_organic_toggle": {
                    "label": "Your brand",
                    "help": (
                        "You are promoting yourself or your own business. This post will be classified as "
                        "Brand Organic."
                    ),
                    "result_label": LABEL_YOUR_BRAND,
                    "result_text": f"Your post will be labeled as '{LABEL_YOUR_BRAND}'.",
                },
                "brand_content_toggle": {
                    "label": "Branded content",
                    "help": (
                        "You are promoting another brand or a third party. This post will be classified as "
                        "Branded Content."
                    ),
                    "result_label": LABEL_BRANDED_CONTENT,
                    "result_text": f"Your post will be labeled as '{LABEL_BRANDED_CONTENT}'.",
                    "privacy_hint": BRANDED_NOT_PRIVATE,
                },
            },
        },
        "declaration": {
            "default": MUSIC_DECLARATION,
            "with_branded_content": BRANDED_DECLARATION,
            "links": {
                "Music Usage Confirmation": MUSIC_USAGE_URL,
                "Branded Content Policy": BRANDED_CONTENT_POLICY_URL,
            },
        },
        "processing_notice": PROCESSING_NOTICE,
    }
    if media_type is MediaType.VIDEO:
        contract["max_video_post_duration_sec"] = creator_info.max_video_post_duration_sec
    else:
        contract["description"] = {"max_length": PHOTO_DESCRIPTION_MAX, "unit": "utf16"}
        contract["max_photos"] = MAX_PHOTOS
    return contract
