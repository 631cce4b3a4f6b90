"""Error taxonomy: every code of TIKTOK-API.md §1-§6 has exactly one class and a message saying what to do."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_publisher.domain import taxonomy
from tiktok_publisher.domain.taxonomy import (
    CODES,
    ErrorClass,
    backoff_delay,
    classify,
    classify_upload_status,
    min_spacing_s,
)
from tiktok_publisher.domain.tiktok_errors import RETRYABLE_CODES

R, M, C, Q, A, I, X = (  # noqa: E741
    ErrorClass.RETRY,
    ErrorClass.FIX_MEDIA,
    ErrorClass.RECONNECT,
    ErrorClass.QUOTA,
    ErrorClass.APP_NOT_AUDITED,
    ErrorClass.INVALID_REQUEST,
    ErrorClass.CANCELLED,
)

# Every code the spec names, copied from TIKTOK-API.md section by section, with the class we expect.
SPEC_CODES: dict[str, ErrorClass] = {
    # §1 OAuth errors
    "access_denied": X,
    "invalid_client": I,
    "invalid_grant": C,
    "invalid_request": I,
    "invalid_scope": I,
    "unauthorized_client": I,
    "unsupported_grant_type": I,
    "unsupported_response_type": I,
    # §2/§3 v2 generic codes
    "access_token_invalid": C,
    "scope_not_authorized": C,
    "scope_permission_missed": C,
    "invalid_params": I,
    "invalid_param": I,
    "invalid_file_upload": M,
    "rate_limit_exceeded": R,
    "internal_error": R,
    # §4 creator_info and init
    "spam_risk_too_many_posts": Q,
    "spam_risk_user_banned_from_posting": Q,
    "reached_active_user_cap": Q,
    "unaudited_client_can_only_post_to_private_accounts": A,
    "url_ownership_unverified": I,
    "privacy_level_option_mismatch": I,
    "spam_risk_too_many_pending_share": Q,
    # §4 status errors and fail_reason values
    "invalid_publish_id": I,
    "token_not_authorized_for_specified_publish_id": I,
    "file_format_check_failed": M,
    "duration_check_failed": M,
    "frame_rate_check_failed": M,
    "picture_size_check_failed": M,
    "internal": R,
    "video_pull_failed": R,
    "photo_pull_failed": R,
    "publish_cancelled": X,
    "auth_removed": C,
    "spam_risk_text": Q,
    "spam_risk": Q,
    # no TikTok code: transport failures, garbage answers (the client's codes), chunk PUT statuses (§5)
    "transport": R,
    "bad_response": R,
    "upload_rejected": I,
    "upload_url_expired": R,
    "upload_not_found": R,
    "upload_range_mismatch": R,
}


def test_no_spec_code_is_missing_from_the_map() -> None:
    missing = sorted(set(SPEC_CODES) - set(CODES))
    assert not missing, f"codes without a classification: {missing}"


def test_the_map_holds_no_code_this_table_does_not_review() -> None:
    assert sorted(set(CODES) - set(SPEC_CODES)) == ["server_error", "temporarily_unavailable"]


@pytest.mark.parametrize(("code", "expected"), sorted(SPEC_CODES.items()))
def test_each_code_has_its_class_and_an_actionable_message(code: str, expected: ErrorClass) -> None:
    info = classify(code, 400)

    assert info.error_class is expected
    assert info.code == code
    assert info.retryable is (expected is ErrorClass.RETRY)
    assert 20 <= len(info.message) <= 300
    assert info.message.endswith(".")
    assert "code '" not in info.message  # the generic fallback text is for unknown codes only
    assert "{" not in info.message


@pytest.mark.parametrize(
    ("code", "expected_fragment"),
    [
        ("file_format_check_failed", "Export it as MP4 (H.264)"),
        ("frame_rate_check_failed", "23 to 60"),
        ("duration_check_failed", "Trim"),
        ("access_token_invalid", "Reconnect"),
        ("auth_removed", "Reconnect"),
        ("spam_risk_too_many_posts", "24 hours"),
        ("spam_risk_too_many_pending_share", "drafts"),
        ("unaudited_client_can_only_post_to_private_accounts", "private"),
        ("rate_limit_exceeded", "retry automatically"),
    ],
)
def test_messages_tell_the_user_what_to_do(code: str, expected_fragment: str) -> None:
    assert expected_fragment in classify(code).message


def test_only_pull_failures_fall_back_to_file_upload() -> None:
    fallbacks = {code for code in CODES if classify(code).pull_fallback}
    assert fallbacks == {"url_ownership_unverified", "video_pull_failed"}


@pytest.mark.parametrize("status", [200, 400, 403, 500])
def test_known_codes_ignore_the_http_status(status: int) -> None:
    # creator_info's quota errors arrive with HTTP 200 on purpose (§3/§4).
    assert classify("spam_risk_too_many_posts", status).error_class is ErrorClass.QUOTA
    assert classify("access_token_invalid", status).error_class is ErrorClass.RECONNECT


def test_codes_are_normalised() -> None:
    assert classify("  Rate_Limit_Exceeded ").error_class is ErrorClass.RETRY


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, R),
        (500, R),
        (502, R),
        (503, R),
        (504, R),
        (599, R),
        (401, C),
        (400, ErrorClass.UNKNOWN),
        (403, ErrorClass.UNKNOWN),
        (404, ErrorClass.UNKNOWN),
        (200, ErrorClass.UNKNOWN),
        (None, ErrorClass.UNKNOWN),
    ],
)
def test_unknown_codes_fall_back_by_http_status(status: int | None, expected: ErrorClass) -> None:
    info = classify("brand_new_code_2031", status)

    assert info.error_class is expected
    assert info.http_status == status
    if expected is ErrorClass.UNKNOWN:
        assert "brand_new_code_2031" in info.message
        assert not info.retryable


def test_missing_code_is_named_none() -> None:
    assert classify(None).code == "none"
    assert classify("", 503).error_class is ErrorClass.RETRY


def test_the_clients_retryable_codes_agree_with_the_taxonomy() -> None:
    # tiktok/errors.py (core) keeps its own short list for in-client retries; both must say "retry".
    for code in RETRYABLE_CODES:
        assert classify(code).retryable, code


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "upload_rejected", I),
        (403, "upload_url_expired", R),
        (404, "upload_not_found", R),
        (416, "upload_range_mismatch", R),
        (500, "none", R),
        (503, "none", R),
        (418, "none", ErrorClass.UNKNOWN),
    ],
)
def test_chunk_put_statuses(status: int, code: str, expected: ErrorClass) -> None:
    info = classify_upload_status(status)

    assert (info.code, info.error_class, info.http_status) == (code, expected, status)


class FixedRng:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempt", "r", "expected"),
    [
        (0, 0.5, 0.5),  # ceiling 1 s
        (3, 0.5, 4.0),  # ceiling 8 s
        (3, 0.0, 0.0),
        (10, 0.999, 59.94),  # capped at 60
        (10_000, 1.0, 60.0),  # no overflow for absurd attempts
    ],
)
def test_backoff_is_full_jitter_under_the_cap(attempt: int, r: float, expected: float) -> None:
    assert backoff_delay(attempt, base=1.0, cap=60.0, rng=FixedRng(r)) == pytest.approx(expected)


def test_backoff_floor_spaces_rate_limited_retries() -> None:
    floor = min_spacing_s("init")

    assert floor == 10.0
    assert backoff_delay(0, base=1, cap=60, rng=FixedRng(0.0), floor=floor) == 10.0
    assert backoff_delay(0, base=1, cap=60, rng=FixedRng(1.0), floor=floor) == 10.0
    assert backoff_delay(5, base=1, cap=60, rng=FixedRng(1.0), floor=floor) == 32.0
    assert backoff_delay(5, base=1, cap=5, rng=FixedRng(0.3), floor=floor) == 5.0  # floor never beats cap


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(0, 200),
    base=st.floats(0, 100),
    cap=st.floats(0, 3600),
    floor=st.floats(0, 120),
    r=st.floats(0, 1, exclude_max=True),
)
def test_backoff_stays_within_its_bounds(
    attempt: int, base: float, cap: float, floor: float, r: float
) -> None:
    delay = backoff_delay(attempt, base=base, cap=cap, rng=FixedRng(r), floor=floor)

    low = min(floor, cap)
    assert low <= delay <= max(low, min(cap, base * 2.0**attempt)) + 1e-9


def test_backoff_rejects_negative_inputs() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        backoff_delay(-1)


def test_backoff_default_rng_is_random_but_bounded() -> None:
    delays = {backoff_delay(4, base=1, cap=16) for _ in range(50)}
    assert all(0 <= d <= 16 for d in delays)
    assert len(delays) > 1


def test_rate_limits_match_the_spec() -> None:
    assert taxonomy.RATE_LIMITS_PER_MINUTE == {"init": 6, "creator_info": 20, "status": 30, "user_info": 600}
    assert min_spacing_s("status") == 2.0
