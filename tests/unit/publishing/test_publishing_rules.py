"""Post validation (TIKTOK-API.md §4 and §8, DESIGN.md §5) and the post-form contract."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from tiktok_publisher.domain.errors import InvalidInput
from tiktok_publisher.domain.media import MediaInfo
from tiktok_publisher.domain.post_form import (
    BRANDED_DECLARATION,
    DISCLOSURE_REQUIRED,
    MUSIC_DECLARATION,
    declaration_text,
    disclosure_label,
    post_form_contract,
)
from tiktok_publisher.domain.post_info import PostInfo, tiktok_post_info, utf16_len
from tiktok_publisher.domain.post_validation import validate_post
from tiktok_publisher.domain.problems import Problem, raise_if_problems
from tiktok_publisher.domain.tiktok import CreatorInfo

PUBLIC = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
EMOJI = "\N{GRINNING FACE}"  # outside the BMP: 2 UTF-16 units


def creator(options: list[str] = PUBLIC, **flags: Any) -> CreatorInfo:
    return CreatorInfo(creator_nickname="Ada", creator_username="ada", privacy_level_options=options, **flags)


def found(
    post_info: dict[str, Any] | None,
    *,
    media_type: str = "video",
    mode: str = "direct",
    audited: bool = True,
    info: CreatorInfo | None = None,
    **kwargs: Any,
) -> list[tuple[str, str]]:
    problems = validate_post(
        info if info is not None else creator(),
        None if post_info is None else PostInfo(**post_info),
        media_type=media_type,
        mode=mode,
        audited=audited,
        **kwargs,
    )
    assert all(isinstance(p, Problem) and p.message for p in problems)
    return [(p.path, p.type) for p in problems]


PI = "body.post_info"

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, str]]]] = [
    # (name, post_info, other arguments, expected problems)
    ("valid public video", {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "hi"}, {}, []),
    ("privacy has no default", {"title": "hi"}, {}, [(f"{PI}.privacy_level", "missing")]),
    ("no post_info at all", None, {}, [(f"{PI}.privacy_level", "missing")]),
    (
        "privacy not among the creator's options",
        {"privacy_level": "FOLLOWER_OF_CREATOR"},
        {},
        [(f"{PI}.privacy_level", "not_allowed")],
    ),
    ("unknown privacy value", {"privacy_level": "EVERYONE"}, {}, [(f"{PI}.privacy_level", "not_allowed")]),
    (
        "unaudited app: only SELF_ONLY",
        {"privacy_level": "FOLLOWER_OF_CREATOR"},
        {"audited": False, "info": creator(PRIVATE)},
        [(f"{PI}.privacy_level", "app_not_audited")],
    ),
    (
        "unaudited app, SELF_ONLY from a private account",
        {"privacy_level": "SELF_ONLY"},
        {"audited": False, "info": creator(PRIVATE)},
        [],
    ),
    (
        "unaudited app, public account",
        {"privacy_level": "SELF_ONLY"},
        {"audited": False},
        [("body.open_id", "app_not_audited")],
    ),
    (
        "comments disabled by creator cannot be allowed",
        {"privacy_level": "SELF_ONLY", "disable_comment": False},
        {"info": creator(comment_disabled=True)},
        [(f"{PI}.disable_comment", "interaction_disabled")],
    ),
    (
        "comments disabled by creator, kept disabled",
        {"privacy_level": "SELF_ONLY", "disable_comment": True},
        {"info": creator(comment_disabled=True)},
        [],
    ),
    (
        "comments disabled by creator, not mentioned",
        {"privacy_level": "SELF_ONLY"},
        {"info": creator(comment_disabled=True)},
        [],
    ),
    (
        "comments allowed when the creator allows them",
        {"privacy_level": "SELF_ONLY", "disable_comment": False},
        {},
        [],
    ),
    (
        "duet and stitch disabled by creator",
        {"privacy_level": "SELF_ONLY", "disable_duet": False, "disable_stitch": False},
        {"info": creator(duet_disabled=True, stitch_disabled=True)},
        [(f"{PI}.disable_duet", "interaction_disabled"), (f"{PI}.disable_stitch", "interaction_disabled")],
    ),
    (
        "photo: comment rule applies",
        {"privacy_level": "SELF_ONLY", "disable_comment": False},
        {"media_type": "photo", "info": creator(comment_disabled=True)},
        [(f"{PI}.disable_comment", "interaction_disabled")],
    ),
    (
        "photo: duet/stitch do not apply",
        {"privacy_level": "SELF_ONLY", "disable_duet": True, "disable_stitch": False},
        {"media_type": "photo"},
        [(f"{PI}.disable_duet", "not_applicable"), (f"{PI}.disable_stitch", "not_applicable")],
    ),
    (
        "photo: video-only fields",
        {"privacy_level": "SELF_ONLY", "is_aigc": True, "video_cover_timestamp_ms": 5},
        {"media_type": "photo"},
        [(f"{PI}.video_cover_timestamp_ms", "not_applicable"), (f"{PI}.is_aigc", "not_applicable")],
    ),
    (
        "video: photo-only fields",
        {"privacy_level": "SELF_ONLY", "description": "d", "auto_add_music": True},
        {},
        [(f"{PI}.description", "not_applicable"), (f"{PI}.auto_add_music", "not_applicable")],
    ),
    (
        "disclosure on needs a box",
        {"privacy_level": "PUBLIC_TO_EVERYONE", "commercial_content": True},
        {},
        [(f"{PI}.commercial_content", "disclosure_incomplete")],
    ),
    (
        "disclosure with your brand",
        {"privacy_level": "SELF_ONLY", "commercial_content": True, "brand_organic_toggle": True},
        {},
        [],
    ),
    (
        "disclosure with branded content",
        {"privacy_level": "PUBLIC_TO_EVERYONE", "commercial_content": True, "brand_content_toggle": True},
        {},
        [],
    ),
    (
        "box ticked with disclosure explicitly off",
        {"privacy_level": "PUBLIC_TO_EVERYONE", "commercial_content": False, "brand_content_toggle": True},
        {},
        [(f"{PI}.commercial_content", "disclosure_off")],
    ),
    (
        "branded content is never SELF_ONLY",
        {"privacy_level": "SELF_ONLY", "brand_content_toggle": True},
        {},
        [(f"{PI}.privacy_level", "branded_content_private")],
    ),
    (
        "branded content on an unaudited app cannot be posted at all",
        {"privacy_level": "SELF_ONLY", "brand_content_toggle": True},
        {"audited": False, "info": creator(PRIVATE)},
        [(f"{PI}.privacy_level", "branded_content_private")],
    ),
    ("video title 2200 units", {"privacy_level": "SELF_ONLY", "title": "a" * 2200}, {}, []),
    (
        "video title 2201 units",
        {"privacy_level": "SELF_ONLY", "title": "a" * 2201},
        {},
        [(f"{PI}.title", "too_long")],
    ),
    ("video title 1100 emoji = 2200 units", {"privacy_level": "SELF_ONLY", "title": EMOJI * 1100}, {}, []),
    (
        "video title 1101 emoji = 2202 units (1101 code points)",
        {"privacy_level": "SELF_ONLY", "title": EMOJI * 1101},
        {},
        [(f"{PI}.title", "too_long")],
    ),
    ("photo title 90", {"privacy_level": "SELF_ONLY", "title": "a" * 90}, {"media_type": "photo"}, []),
    (
        "photo title 45 emoji + 1",
        {"privacy_level": "SELF_ONLY", "title": EMOJI * 45 + "a"},
        {"media_type": "photo"},
        [(f"{PI}.title", "too_long")],
    ),
    (
        "photo description 4000",
        {"privacy_level": "SELF_ONLY", "description": EMOJI * 2000},
        {"media_type": "photo"},
        [],
    ),
    (
        "photo description 4001",
        {"privacy_level": "SELF_ONLY", "description": EMOJI * 2000 + "a"},
        {"media_type": "photo"},
        [(f"{PI}.description", "too_long")],
    ),
    (
        "duration at the creator's max",
        {"privacy_level": "SELF_ONLY"},
        {"info": creator(max_video_post_duration_sec=180), "video_duration_s": 180.0},
        [],
    ),
    (
        "duration over the creator's max",
        {"privacy_level": "SELF_ONLY"},
        {"info": creator(max_video_post_duration_sec=180), "video_duration_s": 180.5},
        [("body.media.duration_s", "duration_too_long")],
    ),
    (
        "duration from the probed media",
        {"privacy_level": "SELF_ONLY"},
        {
            "info": creator(max_video_post_duration_sec=60),
            "media": MediaInfo("mp4", "h264", 1080, 1920, 61.0, 30.0),
        },
        [("body.media.duration_s", "duration_too_long")],
    ),
    (
        "cover frame inside the video",
        {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": 9000},
        {"video_duration_s": 10.0},
        [],
    ),
    (
        "cover frame after the end",
        {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": 10_001},
        {"video_duration_s": 10.0},
        [(f"{PI}.video_cover_timestamp_ms", "out_of_range")],
    ),
    ("photo count 35", {"privacy_level": "SELF_ONLY"}, {"media_type": "photo", "photo_count": 35}, []),
    (
        "photo count 36",
        {"privacy_level": "SELF_ONLY"},
        {"media_type": "photo", "photo_count": 36},
        [("body.media.images", "photo_count")],
    ),
    ("inbox video without post_info", None, {"mode": "inbox"}, []),
    ("inbox video with an empty post_info", {}, {"mode": "inbox"}, []),
    ("inbox video with post_info", {"title": "x"}, {"mode": "inbox"}, [(PI, "not_applicable")]),
    (
        "inbox video still checks duration",
        None,
        {"mode": "inbox", "info": creator(max_video_post_duration_sec=60), "video_duration_s": 61},
        [("body.media.duration_s", "duration_too_long")],
    ),
    (
        "inbox photo with title and description",
        {"title": "t", "description": "d"},
        {"mode": "inbox", "media_type": "photo"},
        [],
    ),
    (
        "inbox photo with privacy",
        {"title": "t", "privacy_level": "SELF_ONLY"},
        {"mode": "inbox", "media_type": "photo"},
        [(f"{PI}.privacy_level", "not_applicable")],
    ),
    (
        "inbox photo title too long",
        {"title": "a" * 91},
        {"mode": "inbox", "media_type": "photo"},
        [(f"{PI}.title", "too_long")],
    ),
]


@pytest.mark.parametrize(("name", "post_info", "kwargs", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rules(name: str, post_info: dict[str, Any] | None, kwargs: dict[str, Any], expected: list) -> None:
    assert found(post_info, **kwargs) == expected


def test_disclosure_message_is_tiktoks_exact_text() -> None:
    problems = validate_post(
        creator(),
        PostInfo(privacy_level="SELF_ONLY", commercial_content=True),
        media_type="video",
        audited=True,
    )
    assert [p.message for p in problems] == [
        "You need to indicate if your content promotes yourself, a third party, or both."
    ]
    assert problems[0].message == DISCLOSURE_REQUIRED


def test_unaudited_reason_is_spelled_out() -> None:
    problems = validate_post(
        creator(), PostInfo(privacy_level="PUBLIC_TO_EVERYONE"), media_type="video", audited=False
    )
    messages = " ".join(p.message for p in problems)
    assert "audited" in messages
    assert "SELF_ONLY" in messages
    assert "private" in messages


def test_missing_privacy_lists_the_options() -> None:
    (problem,) = validate_post(creator(PRIVATE), PostInfo(), media_type="video", audited=True)
    for option in PRIVATE:
        assert option in problem.message


def test_direct_post_without_creator_info_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="creator_info"):
        validate_post(None, PostInfo(privacy_level="SELF_ONLY"), media_type="video", audited=True)


class OtherPostInfo(BaseModel):
    """Another team's post_info model whose booleans default to False instead of None."""

    privacy_level: str | None = None
    title: str | None = None
    disable_comment: bool = False
    disable_duet: bool = False
    is_aigc: bool = False
    auto_add_music: bool = False
    brand_content_toggle: bool = False


def test_pydantic_defaults_count_as_not_given() -> None:
    info = creator(comment_disabled=True)

    quiet = OtherPostInfo(privacy_level="SELF_ONLY")
    explicit = OtherPostInfo(privacy_level="SELF_ONLY", disable_comment=False)

    assert validate_post(info, quiet, media_type="video", audited=True) == []
    assert [p.type for p in validate_post(info, explicit, media_type="video", audited=True)] == [
        "interaction_disabled"
    ]
    assert validate_post(info, quiet, media_type="photo", audited=True) == []


def test_any_attribute_object_works() -> None:
    post = SimpleNamespace(privacy_level="SELF_ONLY", title=EMOJI * 46, brand_content_toggle=True)

    problems = validate_post(creator(), post, media_type="photo", audited=True)  # type: ignore[arg-type]

    assert [p.type for p in problems] == ["branded_content_private", "too_long"]


def test_utf16_len() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("é") == 1
    assert utf16_len(EMOJI) == 2
    assert utf16_len("\N{FAMILY}\u200d") == 3
    assert utf16_len("\ud83d") == 1  # a lone surrogate from JSON does not crash


def test_problems_become_one_422_with_field_paths() -> None:
    problems = validate_post(creator(), PostInfo(title="a" * 2201), media_type="video", audited=True)

    with pytest.raises(InvalidInput) as caught:
        raise_if_problems(problems)

    assert caught.value.status_code == 422
    fields = caught.value.details["fields"]
    assert [f["path"] for f in fields] == ["body.post_info.privacy_level", "body.post_info.title"]
    assert {"path", "type", "message"} == set(fields[0])
    assert "body.post_info.privacy_level" in caught.value.message
    raise_if_problems([])  # nothing to refuse: no exception


def test_tiktok_post_info_keeps_interactions_off_unless_allowed() -> None:
    info = creator(duet_disabled=True)
    post = PostInfo(privacy_level="SELF_ONLY", title="t", disable_comment=False, disable_duet=False)

    sent = tiktok_post_info(post, info, media_type="video")

    assert sent == {
        "privacy_level": "SELF_ONLY",
        "title": "t",
        "disable_comment": False,  # allowed by the user and the creator
        "disable_duet": True,  # the creator disabled it
        "disable_stitch": True,  # not chosen: TikTok's toggles start off
        "brand_organic_toggle": False,
        "brand_content_toggle": False,
    }


def test_tiktok_post_info_for_photos_and_disclosure() -> None:
    post = PostInfo(
        privacy_level="PUBLIC_TO_EVERYONE", description="d", auto_add_music=True, brand_content_toggle=True
    )

    sent = tiktok_post_info(post, creator(), media_type="photo")

    assert "disable_duet" not in sent
    assert "disable_stitch" not in sent
    assert (sent["description"], sent["auto_add_music"], sent["brand_content_toggle"]) == ("d", True, True)
    off = tiktok_post_info(
        PostInfo(privacy_level="SELF_ONLY", commercial_content=False, brand_organic_toggle=True),
        creator(),
        media_type="video",
    )
    assert off["brand_organic_toggle"] is False


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({}, None),
        ({"brand_organic_toggle": True}, "Promotional content"),
        ({"brand_content_toggle": True}, "Paid partnership"),
        ({"brand_organic_toggle": True, "brand_content_toggle": True}, "Paid partnership"),
        ({"commercial_content": False, "brand_content_toggle": True}, None),
    ],
)
def test_disclosure_label(fields: dict[str, bool], label: str | None) -> None:
    assert disclosure_label(PostInfo(**fields)) == label


def test_declaration_text() -> None:
    assert (
        declaration_text(branded_content=False)
        == "By posting, you agree to TikTok's Music Usage Confirmation"
    )
    assert declaration_text(branded_content=True) == (
        "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation"
    )


# ------------------------------------------------------------------------------------ post-form contract


def test_form_contract_for_an_audited_app() -> None:
    contract = post_form_contract(
        creator(comment_disabled=True, max_video_post_duration_sec=300), audited=True, media_type="video"
    )

    json.dumps(contract)  # JSON-ready for the API
    assert contract["creator"]["nickname"] == "Ada"
    privacy = contract["privacy_level"]
    assert privacy["default"] is None
    assert privacy["required"] is True
    assert [o["value"] for o in privacy["options"]] == PUBLIC
    assert [o["label"] for o in privacy["options"]] == ["Everyone", "Friends", "Only me"]
    assert not any(o["disabled"] for o in privacy["options"])
    self_only = privacy["options"][2]
    assert self_only["disabled_when_branded_content"] is True
    assert self_only["branded_content_hint"] == "Branded content visibility cannot be set to private."
    interactions = contract["interactions"]
    assert set(interactions) == {"comment", "duet", "stitch"}
    assert interactions["comment"]["disabled"] is True
    assert interactions["comment"]["disabled_reason"]
    assert interactions["duet"]["disabled"] is False
    assert all(i["allowed_by_default"] is False for i in interactions.values())
    assert contract["max_video_post_duration_sec"] == 300
    assert contract["title"] == {"max_length": 2200, "unit": "utf16"}
    assert contract["can_post"] is True
    assert contract["audit_notice"] is None
    disclosure = contract["commercial_content"]
    assert disclosure["default"] is False
    assert disclosure["required_choice_message"] == DISCLOSURE_REQUIRED
    assert disclosure["options"]["brand_organic_toggle"]["label"] == "Your brand"
    assert disclosure["options"]["brand_organic_toggle"]["result_label"] == "Promotional content"
    assert disclosure["options"]["brand_content_toggle"]["label"] == "Branded content"
    assert disclosure["options"]["brand_content_toggle"]["result_label"] == "Paid partnership"
    assert contract["declaration"]["default"] == MUSIC_DECLARATION
    assert contract["declaration"]["with_branded_content"] == BRANDED_DECLARATION
    assert "minutes" in contract["processing_notice"]


def test_form_contract_for_an_unaudited_app() -> None:
    private = post_form_contract(creator(PRIVATE), audited=False, media_type="video")
    public = post_form_contract(creator(PUBLIC), audited=False, media_type="video")

    enabled = [o["value"] for o in private["privacy_level"]["options"] if not o["disabled"]]
    assert enabled == ["SELF_ONLY"]
    assert all(o["disabled_reason"] for o in private["privacy_level"]["options"] if o["disabled"])
    assert private["can_post"] is True
    assert "audited" in private["audit_notice"]
    assert public["can_post"] is False
    assert "public" in public["cannot_post_reason"]


def test_form_contract_for_photos() -> None:
    contract = post_form_contract(creator(), audited=True, media_type="photo")

    assert set(contract["interactions"]) == {"comment"}
    assert contract["title"]["max_length"] == 90
    assert contract["description"]["max_length"] == 4000
    assert contract["max_photos"] == 35
    assert "max_video_post_duration_sec" not in contract
