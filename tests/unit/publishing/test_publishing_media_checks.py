"""check_video / check_photo: what TikTok refuses (TIKTOK-API.md §4-§5), each rule positive and negative."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.media import make_jpeg, make_mp4, make_webm, make_webp
from tiktok_publisher.domain.media import ImageInfo, MediaInfo, check_photo, check_video
from tiktok_publisher.publishing.probe import BytesReader, probe_image, probe_video

GOOD = MediaInfo("mp4", "h264", 1080, 1920, 30.0, 30.0, 50_000_000)


def paths(problems: list) -> list[str]:
    return [p.path for p in problems]


def test_a_typical_phone_video_passes() -> None:
    assert check_video(GOOD, max_duration_s=600) == []


@pytest.mark.parametrize(
    ("change", "ok"),
    [
        ({"container": "mov"}, True),
        ({"container": "webm", "codec": "vp9"}, True),
        ({"container": "mkv"}, False),
        ({"container": "3gp"}, False),
        ({"codec": "h265"}, True),
        ({"codec": "vp8"}, True),
        ({"codec": "av1"}, False),
        ({"codec": "mpeg4"}, False),
        ({"fps": 23.0}, True),
        ({"fps": 23.976}, True),
        ({"fps": 22.9}, False),
        ({"fps": 60.0}, True),
        ({"fps": 59.94}, True),
        ({"fps": 60.5}, False),
        ({"fps": 120.0}, False),
        ({"fps": None}, True),
        ({"width": 360}, True),
        ({"width": 359}, False),
        ({"height": 4096}, True),
        ({"height": 4097}, False),
        ({"duration_s": 600.0}, True),
        ({"duration_s": 600.5}, False),
        ({"duration_s": 0.0}, False),
        ({"duration_s": None}, True),
        ({"size_bytes": 4_000_000_000}, True),
        ({"size_bytes": 4_000_000_001}, False),
        ({"size_bytes": None}, True),
    ],
)
def test_each_video_rule(change: dict, ok: bool) -> None:
    problems = check_video(replace(GOOD, **change))

    assert (problems == []) is ok, problems
    if not ok:
        assert len(problems) == 1
        assert problems[0].loc[0] == "media"
        assert problems[0].loc[1] in change or problems[0].loc[1] == "duration_s"
        assert "try again" in problems[0].message or "no duration" in problems[0].message


def test_creator_max_duration_applies_and_api_ceiling_caps_it() -> None:
    info = replace(GOOD, duration_s=180.5)

    assert paths(check_video(info, max_duration_s=180)) == ["media.duration_s"]
    assert check_video(info, max_duration_s=181) == []
    assert paths(check_video(replace(GOOD, duration_s=601), max_duration_s=3600)) == ["media.duration_s"]


def test_every_problem_is_reported_at_once_under_the_given_loc() -> None:
    bad = MediaInfo("mkv", "av1", 200, 5000, 700.0, 120.0, 5_000_000_000)

    found = paths(check_video(bad, max_duration_s=600, loc=("body", "media")))

    assert found == [
        "body.media.container",
        "body.media.codec",
        "body.media.width",
        "body.media.height",
        "body.media.fps",
        "body.media.duration_s",
        "body.media.size_bytes",
    ]


def test_codec_message_names_the_codec() -> None:
    (problem,) = check_video(replace(GOOD, codec="av1"))
    assert "not AV1" in problem.message
    assert "Export it as MP4 (H.264)" in problem.message


def test_probed_generated_files_pass_or_fail_as_expected() -> None:
    assert check_video(probe_video(BytesReader(make_mp4(10, 1080, 1920, 30)))) == []
    assert check_video(probe_video(BytesReader(make_webm(10, 720, 1280, 25)))) == []
    assert paths(check_video(probe_video(BytesReader(make_mp4(10, 1080, 1920, 15))))) == ["media.fps"]
    assert paths(check_video(probe_video(BytesReader(make_webm(3, 720, 1280, 30, codec="av1"))))) == [
        "media.codec"
    ]


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [
        (1920, 1080, True),
        (1080, 1920, True),
        (1080, 1080, True),
        (1, 1, True),
        (1921, 1080, False),
        (1080, 1921, False),
        (1440, 1440, False),  # same pixel count as 1080p, but does not fit a 1920x1080 frame
        (1920, 1081, False),
        (4000, 3000, False),
    ],
)
def test_photo_must_fit_1080p(width: int, height: int, ok: bool) -> None:
    problems = check_photo(ImageInfo("jpeg", width, height, 1000))

    assert (problems == []) is ok
    if not ok:
        assert paths(problems) == ["media.dimensions"]
        assert "1920x1080" in problems[0].message


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (ImageInfo("webp", 1080, 1080, 20_000_000), []),
        (ImageInfo("jpeg", 1080, 1080, 20_000_001), ["media.size_bytes"]),
        (ImageInfo("png", 1080, 1080, 100), ["media.format"]),
        (ImageInfo("gif", 3000, 1080, 30_000_000), ["media.format", "media.dimensions", "media.size_bytes"]),
    ],
)
def test_photo_format_and_size(info: ImageInfo, expected: list[str]) -> None:
    assert paths(check_photo(info)) == expected


def test_probed_photos() -> None:
    assert check_photo(probe_image(BytesReader(make_jpeg(1080, 1920)))) == []
    assert check_photo(probe_image(BytesReader(make_webp(1920, 1080)))) == []
    assert paths(check_photo(probe_image(BytesReader(make_jpeg(4032, 3024))))) == ["media.dimensions"]


def test_content_type_follows_the_container() -> None:
    assert GOOD.content_type == "video/mp4"
    assert replace(GOOD, container="mov").content_type == "video/quicktime"
    assert replace(GOOD, container="webm").content_type == "video/webm"
    assert replace(GOOD, container="mkv").content_type is None
