"""Pure policies of issue 12: the chunk plan for the world as it is, the upload_url check, per-token pacing,
messages true for the post that ended, rules re-read at dispatch, never an empty photo post_info."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tiktok_publisher.domain.chunks import (
    MAX_VIDEO_SIZE,
    SINGLE_CHUNK_MAX,
    EmptyVideoError,
    plan_chunks,
    plan_upload,
)
from tiktok_publisher.domain.pacing import (
    CALL_LIMITS,
    MARGIN_S,
    WINDOW_S,
    CallLimitReached,
    admit,
    pacing_key,
)
from tiktok_publisher.domain.post_info import PostInfo, tiktok_post_info
from tiktok_publisher.domain.post_validation import rules_at_dispatch, tightened_post_info
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.status import restarts_after_failure
from tiktok_publisher.domain.taxonomy import (
    CODES,
    ErrorClass,
    chunk_refusal,
    classify,
    is_chunk_refusal,
    rules_changed,
    settled,
)
from tiktok_publisher.domain.tiktok import CreatorInfo
from tiktok_publisher.domain.upload_url import upload_url_trusted
from tiktok_publisher.publishing.worker.init import photo_post_info

# ---------------------------------------------------------------------- chunk plan


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, SINGLE_CHUNK_MAX))
@example(size=17_800_000)
@example(size=SINGLE_CHUNK_MAX)
@example(size=5 * 1024 * 1024)
def test_up_to_64_000_000_bytes_is_one_chunk_of_exactly_the_size(size: int) -> None:
    plan = plan_upload(size)
    assert plan.source_info() == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": size,
        "total_chunk_count": 1,
    }
    assert not plan.multi_chunk


@settings(max_examples=200, deadline=None)
@given(size=st.integers(SINGLE_CHUNK_MAX + 1, MAX_VIDEO_SIZE))
@example(size=SINGLE_CHUNK_MAX + 1)
@example(size=70_000_000)
def test_above_it_is_the_documented_multi_chunk_plan(size: int) -> None:
    plan = plan_upload(size)
    assert plan == plan_chunks(size)
    assert plan.multi_chunk
    assert plan.chunk_size <= SINGLE_CHUNK_MAX


def test_plan_upload_keeps_the_planners_refusals_and_its_own_bounds() -> None:
    with pytest.raises(EmptyVideoError):
        plan_upload(0)
    for bad in (0, SINGLE_CHUNK_MAX + 1):
        with pytest.raises(ValueError, match="single_chunk_max"):
            plan_upload(10, single_chunk_max=bad)
    assert plan_upload(23_000_000, single_chunk_max=10_000_000).total_chunk_count == 2


@pytest.mark.parametrize(
    ("code", "message", "refusal"),
    [
        ("invalid_params", "The chunk size is invalid", True),
        ("invalid_param", "the chunk size is invalid: too big", True),
        ("invalid_params", "The request post info is empty or incorrect", False),
        ("internal_error", "The chunk size is invalid", False),
        (None, None, False),
    ],
)
def test_the_chunk_refusal_is_recognised_by_code_and_tiktoks_words(
    code: str | None, message: str | None, refusal: bool
) -> None:
    assert is_chunk_refusal(code, message) is refusal


def test_a_chunk_refusal_quotes_tiktok_and_says_what_to_do() -> None:
    error = chunk_refusal("The chunk size is invalid", 400)
    assert (error.code, error.error_class, error.http_status) == (
        "multi_chunk_refused",
        ErrorClass.FIX_MEDIA,
        400,
    )
    assert '(invalid_params: "The chunk size is invalid")' in error.message
    assert "64 MB" in error.message
    assert "MEDIA_PULL_MODE" in error.message
    assert "post settings" not in error.message


# ---------------------------------------------------------------------- upload_url


@pytest.mark.parametrize(
    "url",
    [
        "https://open-upload.tiktokapis.com/video/?upload_id=1&upload_token=t",
        "https://upload.us.tiktokapis.com/video/?upload_id=1",
        "https://open-upload-i18n.tiktokapis.com:443/upload/?x=1",
        "https://OPEN-UPLOAD.TIKTOKAPIS.COM./video/",
    ],
)
def test_tiktoks_upload_hosts_are_trusted(url: str) -> None:
    assert upload_url_trusted(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://open-upload.tiktokapis.com/video/",  # not https
        "https://tiktokapis.com.evil.test/video/",
        "https://eviltiktokapis.com/video/",  # a suffix, not a subdomain
        "https://open-upload.tiktokapis.com@evil.test/video/",  # credentials
        "https://user:pw@open-upload.tiktokapis.com/video/",
        "https://open-upload.tiktokapis.com:8443/video/",  # another port
        "https://open-upload.tiktokapis.com\\@evil.test/",
        "https://open-upload.tiktokapis.com/vid eo/",
        "ftp://open-upload.tiktokapis.com/video/",
        "/upload/video/?upload_id=1",
        "",
        "http://127.0.0.1:8900/upload/video/?upload_id=1",  # the emulator, without local configuration
    ],
)
def test_anything_else_is_not(url: str) -> None:
    assert not upload_url_trusted(url)


def test_the_emulators_origin_is_trusted_only_when_configured_as_a_whole_origin() -> None:
    url = "http://127.0.0.1:8900/upload/video/?upload_id=1"
    assert upload_url_trusted(url, ["http://127.0.0.1:8900"])
    assert upload_url_trusted(url, ["http://127.0.0.1:8900/"])
    assert not upload_url_trusted(url, ["http://127.0.0.1:8901"])
    assert not upload_url_trusted(url, ["http://127.0.0.1"])
    assert not upload_url_trusted("http://127.0.0.1:89001/upload/", ["http://127.0.0.1:8900"])


# ---------------------------------------------------------------------- pacing


def test_a_window_admits_up_to_the_limit_then_says_when() -> None:
    log: tuple[float, ...] = ()
    for second in range(6):
        admission = admit(log, now=1000 + second, limit=6)
        assert admission.times is not None
        log = admission.times
    refused = admit(log, now=1010, limit=6)
    assert refused.times is None
    assert refused.wait_s == pytest.approx(1000 + WINDOW_S + MARGIN_S - 1010)
    later = admit(log, now=1000 + WINDOW_S + MARGIN_S + 0.5, limit=6)
    assert later.times is not None
    assert len(later.times) == 6  # the oldest left the window


def test_refused_callers_get_turns_one_slot_interval_apart() -> None:
    full = tuple(float(t) for t in range(6))
    span = WINDOW_S + MARGIN_S
    first = admit(full, now=10, limit=6)
    second = admit(full, now=11, limit=6, queued_until=first.queued_until)
    third = admit(full, now=11, limit=6, queued_until=second.queued_until)
    assert [first.wait_s, 10 + first.wait_s] == [span - 10, span]
    assert 11 + second.wait_s == pytest.approx(span + span / 6)
    assert 11 + third.wait_s == pytest.approx(span + 2 * span / 6)
    # A turn is a hint: when a slot is free the caller is admitted, whatever the queue says
    assert admit((), now=11, limit=6, queued_until=third.queued_until).times == (11,)
    # A queue whose end has passed does not delay anyone
    assert admit(full, now=10, limit=6, queued_until=5).wait_s == span - 10


@settings(max_examples=200, deadline=None)
@given(
    limit=st.sampled_from(sorted(CALL_LIMITS.values())),
    gaps=st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=120),
)
def test_no_span_of_a_window_plus_margin_ever_holds_more_than_the_limit(
    limit: int, gaps: list[float]
) -> None:
    # Callers asking at arbitrary times, each admitted or told to wait: what is admitted never exceeds the
    # limit in any window (the property TikTok's per-token sliding window needs).
    log: tuple[float, ...] = ()
    admitted: list[float] = []
    now = 0.0
    for gap in gaps:
        now += gap
        admission = admit(log, now=now, limit=limit)
        if admission.times is not None:
            log = admission.times
            admitted.append(now)
        else:
            assert admission.wait_s > 0
    span = WINDOW_S + MARGIN_S
    for start in admitted:
        assert sum(1 for t in admitted if start <= t < start + span) <= limit


def test_pacing_keys_and_the_429_the_api_answers() -> None:
    assert pacing_key("t", "o", "init") == "t#o#init"
    refused = CallLimitReached("creator_info", 12.2)
    assert (refused.status_code, refused.code, refused.retry_after_s) == (429, "tiktok_rate_limit", 13)
    assert "20 creator_info calls a minute" in refused.message
    with pytest.raises(KeyError, match="no TikTok rate limit"):
        CallLimitReached("video_query", 1)
    with pytest.raises(ValueError, match="limit"):
        admit((), now=0, limit=0)


# ---------------------------------------------------------------------- messages of a post that ended


@pytest.mark.parametrize("code", sorted(c for c, e in CODES.items() if e.error_class is ErrorClass.RETRY))
@pytest.mark.parametrize("media", ["video", "photo"])
def test_a_failed_post_never_promises_an_automatic_retry(code: str, media: str) -> None:
    message = settled(classify(code), media=media).message
    assert "automatically" not in message
    assert "instead" not in message
    assert message.endswith(".")


@pytest.mark.parametrize("code", sorted(CODES))
def test_a_failed_photo_post_is_never_told_about_its_video(code: str) -> None:
    message = settled(classify(code), media="photo").message
    assert "uploaded directly" not in message
    if code in {"url_ownership_unverified", "internal", "photo_pull_failed"}:
        assert "video" not in message


def test_settled_keeps_class_and_code_and_leaves_final_messages_alone() -> None:
    quota = classify("spam_risk_too_many_posts")
    assert settled(quota, media="video") == quota
    internal = settled(classify("internal"), media="photo")
    assert (internal.code, internal.error_class) == ("internal", ErrorClass.RETRY)
    assert "photo post" in internal.message


def test_invalid_params_quotes_tiktok_and_nothing_else_does() -> None:
    quoted = classify("invalid_params", 400, tiktok_message="  The title\nis too long ")
    assert '"The title is too long"' in quoted.message
    assert "Check the post settings" not in quoted.message
    assert classify("invalid_params", 400).message == CODES["invalid_params"].message
    assert classify("spam_risk", tiktok_message="whatever").message == CODES["spam_risk"].message
    long = classify("invalid_params", tiktok_message="x" * 1000).message
    assert len(long) < 500


# ---------------------------------------------------------------------- fresh rules at dispatch

PRIVATE = CreatorInfo(
    privacy_level_options=["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    duet_disabled=True,
    stitch_disabled=True,
    max_video_post_duration_sec=300,
)


def _stored(creator: CreatorInfo, **fields: object) -> dict[str, object]:
    return tiktok_post_info(PostInfo.model_validate(fields), creator, media_type="video")


def test_a_post_that_still_fits_has_no_problem_at_dispatch() -> None:
    stored = _stored(PRIVATE, privacy_level="SELF_ONLY", title="x")
    assert rules_at_dispatch(stored, PRIVATE, media_type="video", audited=False, video_duration_s=30) == []


def test_each_rule_that_stopped_holding_is_named() -> None:
    public = CreatorInfo(privacy_level_options=["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    stored = _stored(public, privacy_level="PUBLIC_TO_EVERYONE", title="x")
    shorter = PRIVATE.model_copy(update={"max_video_post_duration_sec": 10})

    problems = rules_at_dispatch(stored, shorter, media_type="video", audited=True, video_duration_s=30)

    assert sorted(p.type for p in problems) == ["duration_too_long", "not_allowed"]
    error = rules_changed([p.message for p in problems])
    assert error.code == "creator_rules_changed"
    assert "'PUBLIC_TO_EVERYONE' isn't available" in error.message
    assert "at most 10 s" in error.message
    assert error.message.endswith("Edit the post and schedule it again.")


def test_interactions_turned_off_meanwhile_are_sent_disabled_not_refused() -> None:
    stored = _stored(PRIVATE, privacy_level="SELF_ONLY", disable_comment=False)
    assert stored["disable_comment"] is False
    no_comments = PRIVATE.model_copy(update={"comment_disabled": True})

    assert (
        rules_at_dispatch(stored, no_comments, media_type="video", audited=False, video_duration_s=None) == []
    )
    assert tightened_post_info(stored, no_comments, media_type="video")["disable_comment"] is True
    photo = tightened_post_info({"disable_comment": False}, no_comments, media_type="photo")
    assert photo == {"disable_comment": True}


# ---------------------------------------------------------------------- photo post_info, restarts


def test_a_photo_post_info_is_never_empty() -> None:
    assert photo_post_info({}) == {"title": "", "description": ""}
    assert photo_post_info({"title": None, "disable_duet": True}) == {"title": "", "description": ""}
    draft = tiktok_post_info(None, None, media_type="photo", mode="inbox")
    assert photo_post_info(draft) == draft != {}


def _post(transfer: str, **source: object) -> Post:
    return Post(
        tenant_id="t",
        post_id="p",
        open_id="o",
        created_at="2026-01-01T00:00:00.000Z",
        mode="direct",
        media="video",
        status=PostStatus.PROCESSING,
        source=dict(source),
        transfer=transfer,
    )


def test_internal_on_an_upload_restarts_once_and_pulls_keep_their_budget() -> None:
    internal = classify("internal")
    assert restarts_after_failure(_post("upload"), internal)
    assert not restarts_after_failure(_post("upload", internal_reinits=1), internal)
    assert not restarts_after_failure(_post("upload"), classify("file_format_check_failed"))
    assert restarts_after_failure(_post("pull"), classify("video_pull_failed"))
    spent = _post("pull")
    spent.attempts = 3
    assert not restarts_after_failure(spent, classify("video_pull_failed"))
