"""Post validation: TIKTOK-API.md §4 and §8, DESIGN.md §5 item 1. Pure.

``validate_post`` returns every problem at once (a list of Problem with field paths); the API raises them as
one 422 with :func:`tiktok_publisher.domain.problems.raise_if_problems`.
"""

from __future__ import annotations

from tiktok_publisher.domain.media import MediaInfo
from tiktok_publisher.domain.post_form import (
    BRANDED_NOT_PRIVATE,
    DISCLOSURE_REQUIRED,
    PRIVACY_LABELS,
    UNAUDITED_REASON,
    account_is_public,
)
from tiktok_publisher.domain.post_info import (
    ALL_FIELDS,
    INTERACTIONS,
    MAX_PHOTOS,
    PHOTO_DESCRIPTION_MAX,
    PHOTO_ONLY,
    PHOTO_TITLE_MAX,
    VIDEO_ONLY,
    VIDEO_TITLE_MAX,
    MediaType,
    PostInfo,
    PostInfoLike,
    PostMode,
    disclosure_on,
    field_value,
    utf16_len,
)
from tiktok_publisher.domain.problems import Loc, Problem
from tiktok_publisher.domain.tiktok import CreatorInfo, PrivacyLevel


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
    cover_ms = field_value(info, "video_cover_timestamp_ms")
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
        set()
        if post_info is None
        else {name for name in ALL_FIELDS if field_value(post_info, name) is not None}
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
        names: tuple[str, ...] = VIDEO_ONLY
        why = "applies to videos only (photos allow comments only, no Duet or Stitch)"
    else:
        names, why = PHOTO_ONLY, "applies to photo posts only (a video's caption is its title)"
    return [
        Problem((*loc, name), f"{name} {why}. Remove this field.", "not_applicable")
        for name in names
        if field_value(info, name) is not None
    ]


def _privacy(info: PostInfoLike, creator_info: CreatorInfo, audited: bool, loc: Loc) -> list[Problem]:
    problems: list[Problem] = []
    options = list(creator_info.privacy_level_options)
    field = (*loc, "privacy_level")
    level = field_value(info, "privacy_level")
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
    if field_value(info, "brand_content_toggle") and disclosure_on(info) and level == PrivacyLevel.SELF_ONLY:
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
    for name, field, creator_flag, label in INTERACTIONS:
        if media_type is MediaType.PHOTO and name != "comment":
            continue
        if getattr(creator_info, creator_flag) and field_value(info, field) is False:
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
    ticked = bool(field_value(info, "brand_organic_toggle") or field_value(info, "brand_content_toggle"))
    if field_value(info, "commercial_content") is False and ticked:
        return [
            Problem(
                (*loc, "commercial_content"),
                "Turn on content disclosure (commercial_content) to mark the post as Your brand or Branded "
                "content, or untick both.",
                "disclosure_off",
            )
        ]
    if disclosure_on(info) and not ticked:
        return [Problem((*loc, "commercial_content"), DISCLOSURE_REQUIRED, "disclosure_incomplete")]
    return []


def _texts(info: PostInfoLike, media_type: MediaType, loc: Loc) -> list[Problem]:
    problems: list[Problem] = []
    title_max = PHOTO_TITLE_MAX if media_type is MediaType.PHOTO else VIDEO_TITLE_MAX
    limits = [("title", title_max)]
    if media_type is MediaType.PHOTO:
        limits.append(("description", PHOTO_DESCRIPTION_MAX))
    for name, limit in limits:
        text = field_value(info, name)
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


# ---------------------------------------------------------------------- at dispatch (scheduled posts)


def tightened_post_info(
    post_info: dict[str, object], creator_info: CreatorInfo, *, media_type: MediaType | str
) -> dict[str, object]:
    """A stored direct post's post_info with every interaction the creator has turned off since sent
    disabled. Turning an interaction off is always allowed, so this never needs the user."""
    out = dict(post_info)
    for name, field, creator_flag, _label in INTERACTIONS:
        if MediaType(media_type) is MediaType.PHOTO and name != "comment":
            continue
        if getattr(creator_info, creator_flag):
            out[field] = True
    return out


def rules_at_dispatch(
    post_info: dict[str, object],
    creator_info: CreatorInfo,
    *,
    media_type: MediaType | str,
    audited: bool,
    video_duration_s: float | None,
) -> list[Problem]:
    """The rules a scheduled direct post no longer meets, read against the creator_info of the moment it
    is dispatched (issue 12: rules may change in the days between scheduling and posting): a privacy level
    no longer offered, a duration over the new maximum, an account no longer fit for an unaudited app, ...

    ``post_info`` is what the post stored (TikTok's field names). Interactions the creator turned off
    meanwhile are not problems: they are sent disabled (:func:`tightened_post_info`).
    """
    stored = tightened_post_info(post_info, creator_info, media_type=media_type)
    known = {name: value for name, value in stored.items() if name in ALL_FIELDS}
    return validate_post(
        creator_info,
        PostInfo.model_validate(known),
        media_type=media_type,
        audited=audited,
        mode=PostMode.DIRECT,
        video_duration_s=video_duration_s,
        loc=("post_info",),
        duration_loc=("media", "duration_s"),
        photos_loc=("media", "images"),
    )
