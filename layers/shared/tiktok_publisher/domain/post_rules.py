"""Post validation and the post-form contract: TIKTOK-API.md §4 and §8, DESIGN.md §5 item 1. Pure functions.

``validate_post`` returns every problem at once (a list of Problem with field paths); the API raises them as
one 422 with :func:`tiktok_publisher.publishing.problems.raise_if_problems`. ``post_form_contract`` tells a
UI what TikTok's content sharing guidelines require it to show (no privacy default, greyed-out interactions,
disclosure texts, declarations), so every client renders the same audited form.
"""

from __future__ import annotations

from typing import Any, Protocol

from tiktok_publisher.domain.media import MediaInfo
from tiktok_publisher.domain.post_info import MediaType, PostInfo, PostMode
from tiktok_publisher.domain.problems import Loc, Problem
from tiktok_publisher.domain.tiktok import CreatorInfo, PrivacyLevel

VIDEO_TITLE_MAX = 2200  # UTF-16 code units
PHOTO_TITLE_MAX = 90
PHOTO_DESCRIPTION_MAX = 4000
MAX_PHOTOS = 35

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

_INTERACTIONS = (
    ("comment", "disable_comment", "comment_disabled", "Comment"),
    ("duet", "disable_duet", "duet_disabled", "Duet"),
    ("stitch", "disable_stitch", "stitch_disabled", "Stitch"),
)
_ALL_FIELDS = tuple(PostInfo.model_fields)
_VIDEO_ONLY = ("disable_duet", "disable_stitch", "video_cover_timestamp_ms", "is_aigc")
_PHOTO_ONLY = ("description", "auto_add_music")


class PostInfoLike(Protocol):
    """Anything shaped like TikTok's post_info, read by attribute name (missing ones count as not given)."""

    title: str | None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, TikTok's unit for titles (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def account_is_public(creator_info: CreatorInfo) -> bool:
    """TikTok offers PUBLIC_TO_EVERYONE only to public accounts (private ones get FOLLOWER_OF_CREATOR)."""
    return PrivacyLevel.PUBLIC_TO_EVERYONE in creator_info.privacy_level_options


def disclosure_label(post_info: PostInfoLike) -> str | None:
    """The label TikTok puts on the post: "Paid partnership" when branded content is ticked (alone or with
    "Your brand"), "Promotional content" for "Your brand" alone, else None."""
    if not _disclosure_on(post_info):
        return None
    if _value(post_info, "brand_content_toggle"):
        return LABEL_BRANDED_CONTENT
    if _value(post_info, "brand_organic_toggle"):
        return LABEL_YOUR_BRAND
    return None


def declaration_text(*, branded_content: bool) -> str:
    """The sentence shown above the publish button."""
    return BRANDED_DECLARATION if branded_content else MUSIC_DECLARATION


def _options_text(options: list[str]) -> str:
    return ", ".join(f"{o} ({PRIVACY_LABELS[o]})" if o in PRIVACY_LABELS else o for o in options)


def validate_post(
    creator_info: CreatorInfo | None,
    post_info: PostInfoLike | None,
    *,
    media_type: MediaType | str,
    audited: bool,
    mode: PostMode | str = PostMode.DIRECT,
    media: MediaInfo | None = None,
    video_duration_s: float | None = None,
    photo_count: int | None = None,
    loc: Loc = ("body", "post_info"),
    duration_loc: Loc = ("body", "media", "duration_s"),
    photos_loc: Loc = ("body", "media", "images"),
) -> list[Problem]:
    """Every reason TikTok (or its audit guidelines) would refuse this post; an empty list means go ahead.

    Direct posts need a fresh ``creator_info``. Inbox posts take none of post_info (photo drafts: title and
    description only). The video duration (``video_duration_s``, else ``media.duration_s``) is checked against
    the creator's max when both are known. ``post_info`` is our PostInfo or any object with the same
    attribute names (a Pydantic model's unset fields count as "not given").
    """
    mode, media_type = PostMode(mode), MediaType(media_type)
    if video_duration_s is None and media is not None:
        video_duration_s = media.duration_s
    problems: list[Problem] = []
    if media_type is MediaType.PHOTO and photo_count is not None and not 1 <= photo_count <= MAX_PHOTOS:
        problems.append(Problem(photos_loc, f"A photo post has 1 to {MAX_PHOTOS} photos.", "photo_count"))
    if media_type is MediaType.VIDEO:
        problems += _duration(video_duration_s, creator_info, duration_loc)

    if mode is PostMode.INBOX:
        return problems + _inbox(post_info, media_type, loc)
    if creator_info is None:
        raise ValueError("direct posts are validated against a fresh creator_info")
    info: PostInfoLike = post_info if post_info is not None else PostInfo()
    problems += _not_applicable(info, media_type, loc)
    problems += _privacy(info, creator_info, audited, loc)
    problems += _interactions(info, creator_info, media_type, loc)
    problems += _disclosure(info, loc)
    problems += _texts(info, media_type, loc)
    cover_ms = _value(info, "video_cover_timestamp_ms")
    if (
        media_type is MediaType.VIDEO
        and isinstance(cover_ms, int)
        and video_duration_s is not None
        and cover_ms > video_duration_s * 1000
    ):
        problems.append(
            Problem(
                (*loc, "video_cover_timestamp_ms"),
                f"The cover frame is at {cover_ms} ms but the video lasts "
                f"{video_duration_s * 1000:.0f} ms. Pick a frame inside the video.",
                "out_of_range",
            )
        )
    return problems


def tiktok_post_info(
    post_info: PostInfoLike | None, creator_info: CreatorInfo, *, media_type: MediaType | str
) -> dict[str, Any]:
    """The ``post_info`` to send to TikTok for a validated direct post.

    Interactions not explicitly allowed stay disabled (TikTok's UX: the toggles start off), and those the
    creator disabled are always sent disabled; fields of the other media type are left out.
    """
    media_type = MediaType(media_type)
    info: PostInfoLike = post_info if post_info is not None else PostInfo()
    out: dict[str, Any] = {"privacy_level": _value(info, "privacy_level")}
    for name in ("title", "description", "video_cover_timestamp_ms", "is_aigc", "auto_add_music"):
        allowed_here = name not in (_VIDEO_ONLY if media_type is MediaType.PHOTO else _PHOTO_ONLY)
        if allowed_here and (value := _value(info, name)) is not None:
            out[name] = value
    for name, field, creator_flag, _label in _INTERACTIONS:
        if media_type is MediaType.PHOTO and name != "comment":
            continue
        allowed = _value(info, field) is False
        out[field] = bool(getattr(creator_info, creator_flag)) or not allowed
    disclosed = _disclosure_on(info)
    out["brand_organic_toggle"] = disclosed and bool(_value(info, "brand_organic_toggle"))
    out["brand_content_toggle"] = disclosed and bool(_value(info, "brand_content_toggle"))
    return out


def _value(info: PostInfoLike, name: str) -> Any:
    """The field's value if the caller gave it, else None (Pydantic defaults count as not given)."""
    fields_set = getattr(info, "model_fields_set", None)
    if fields_set is not None and name not in fields_set:
        return None
    return getattr(info, name, None)


def _disclosure_on(info: PostInfoLike) -> bool:
    explicit = _value(info, "commercial_content")
    if explicit is None:
        return bool(_value(info, "brand_organic_toggle") or _value(info, "brand_content_toggle"))
    return bool(explicit)


def _duration(duration_s: float | None, creator_info: CreatorInfo | None, loc: Loc) -> list[Problem]:
    if duration_s is None or creator_info is None:
        return []
    limit = creator_info.max_video_post_duration_sec
    if duration_s <= limit:
        return []
    return [
        Problem(
            loc,
            f"The video lasts {duration_s:.1f} s; this TikTok account can post videos of at most {limit} s. "
            "Trim it and try again.",
            "duration_too_long",
        )
    ]


def _inbox(post_info: PostInfoLike | None, media_type: MediaType, loc: Loc) -> list[Problem]:
    given = (
        set() if post_info is None else {name for name in _ALL_FIELDS if _value(post_info, name) is not None}
    )
    if post_info is None or not given:
        return []
    if media_type is MediaType.VIDEO:
        return [
            Problem(
                loc,
                "Inbox (draft) videos take no post_info: the creator adds the caption and chooses who can "
                "see it in the TikTok app. Remove post_info, or post directly instead.",
                "not_applicable",
            )
        ]
    problems = [
        Problem(
            (*loc, name),
            "Photo drafts sent to the TikTok inbox take only a title and description; the creator chooses "
            "the rest in the TikTok app. Remove this field.",
            "not_applicable",
        )
        for name in sorted(given - {"title", "description"})
    ]
    return problems + _texts(post_info, media_type, loc)


def _not_applicable(info: PostInfoLike, media_type: MediaType, loc: Loc) -> list[Problem]:
    if media_type is MediaType.PHOTO:
        names: tuple[str, ...] = _VIDEO_ONLY
        why = "applies to videos only (photos allow comments only, no Duet or Stitch)"
    else:
        names, why = _PHOTO_ONLY, "applies to photo posts only (a video's caption is its title)"
    return [
        Problem((*loc, name), f"{name} {why}. Remove this field.", "not_applicable")
        for name in names
        if _value(info, name) is not None
    ]


def _privacy(info: PostInfoLike, creator_info: CreatorInfo, audited: bool, loc: Loc) -> list[Problem]:
    problems: list[Problem] = []
    options = list(creator_info.privacy_level_options)
    field = (*loc, "privacy_level")
    level = _value(info, "privacy_level")
    if level is None:
        allowed = (
            _options_text(options)
            if audited
            else "SELF_ONLY (Only me), the only level this unaudited app may use"
        )
        problems.append(Problem(field, f"Choose who can see this post: {allowed}.", "missing"))
    elif level not in options:
        problems.append(
            Problem(
                field,
                f"{level!r} isn't available for this TikTok account. Choose one of {_options_text(options)}.",
                "not_allowed",
            )
        )
    if not audited:
        if level is not None and level != PrivacyLevel.SELF_ONLY:
            problems.append(
                Problem(field, UNAUDITED_REASON + " Choose SELF_ONLY (Only me).", "app_not_audited")
            )
        if account_is_public(creator_info):
            problems.append(
                Problem(
                    ("body", "open_id"),
                    UNAUDITED_REASON + " This account is public: make it private in the TikTok app, then try "
                    "again.",
                    "app_not_audited",
                )
            )
    if _value(info, "brand_content_toggle") and _disclosure_on(info) and level == PrivacyLevel.SELF_ONLY:
        problems.append(
            Problem(
                field,
                BRANDED_NOT_PRIVATE + " Choose another privacy level or untick Branded content.",
                "branded_content_private",
            )
        )
    return problems


def _interactions(
    info: PostInfo, creator_info: CreatorInfo, media_type: MediaType, loc: Loc
) -> list[Problem]:
    problems: list[Problem] = []
    for name, field, creator_flag, label in _INTERACTIONS:
        if media_type is MediaType.PHOTO and name != "comment":
            continue
        if getattr(creator_info, creator_flag) and _value(info, field) is False:
            problems.append(
                Problem(
                    (*loc, field),
                    f"{label} is turned off in this creator's TikTok settings, so it can't be allowed on "
                    "this post. "
                    f"Leave {field} true (or out).",
                    "interaction_disabled",
                )
            )
    return problems


def _disclosure(info: PostInfoLike, loc: Loc) -> list[Problem]:
    ticked = bool(_value(info, "brand_organic_toggle") or _value(info, "brand_content_toggle"))
    if _value(info, "commercial_content") is False and ticked:
        return [
            Problem(
                (*loc, "commercial_content"),
                "Turn on content disclosure (commercial_content) to mark the post as Your brand or Branded "
                "content, or untick both.",
                "disclosure_off",
            )
        ]
    if _disclosure_on(info) and not ticked:
        return [Problem((*loc, "commercial_content"), DISCLOSURE_REQUIRED, "disclosure_incomplete")]
    return []


def _texts(info: PostInfoLike, media_type: MediaType, loc: Loc) -> list[Problem]:
    problems: list[Problem] = []
    title_max = PHOTO_TITLE_MAX if media_type is MediaType.PHOTO else VIDEO_TITLE_MAX
    limits = [("title", title_max)]
    if media_type is MediaType.PHOTO:
        limits.append(("description", PHOTO_DESCRIPTION_MAX))
    for name, limit in limits:
        text = _value(info, name)
        if isinstance(text, str) and (length := utf16_len(text)) > limit:
            problems.append(
                Problem(
                    (*loc, name),
                    f"The {name} is {length} characters long; TikTok allows {limit} (emoji count as 2). "
                    "Shorten it.",
                    "too_long",
                )
            )
    return problems


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
    for name, field, creator_flag, label in _INTERACTIONS:
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
