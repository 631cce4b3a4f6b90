"""Error taxonomy: every TikTok error code maps to exactly one ErrorClass and a message that says what to do.

Pure data and arithmetic (TIKTOK-API.md §1-§6, DESIGN.md §5 item 6). Codes are looked up by name whatever
the endpoint that sent them (OAuth, v2 envelope, init, status fail_reason, chunk upload); unknown codes
fall back by HTTP status: 429/5xx retry, 401 reconnect, anything else fails with a generic message naming
the code.

TikTok's per-token, per-minute limits (§6) shape the retry spacing: init endpoints 6/min (so at least ~10 s
between inits of one token), creator_info 20/min (3 s), status 30/min (2 s), user info 600/min (0.1 s).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tiktok_publisher.domain.errors import (
    AccountNeedsReconnect,
    CreatorCannotPost,
    DomainError,
    UpstreamError,
)
from tiktok_publisher.domain.tiktok_errors import TikTokError, token_rejected


class ErrorClass(StrEnum):
    """What the caller should do about an error."""

    RETRY = "retry"  # the same request may succeed later: back off and try again
    FIX_MEDIA = "fix_media"  # the user must change the video/photo
    RECONNECT = "reconnect"  # the user must connect the TikTok account again (token dead, scope missing)
    QUOTA = (
        "quota"  # TikTok's posting limits or anti-spam: wait (hours) or change the content, never auto-retry
    )
    APP_NOT_AUDITED = "app_not_audited"  # the app is unaudited: SELF_ONLY posts from private accounts only
    INVALID_REQUEST = (
        "invalid_request"  # our request or the app's configuration is wrong: retrying won't help
    )
    CANCELLED = "cancelled"  # the user (or someone) cancelled: final, not an error to retry or fix
    UNKNOWN = "unknown"  # a code we do not know, with an HTTP status that does not say "retry"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Classification of one error: what class it is, whether to retry, and what to tell the user."""

    code: str
    error_class: ErrorClass
    message: str
    http_status: int | None = None
    # A PULL_FROM_URL failure that FILE_UPLOAD can route around (DESIGN.md §5 item 2).
    pull_fallback: bool = False

    @property
    def retryable(self) -> bool:
        """True when repeating the same request later may succeed."""
        return self.error_class is ErrorClass.RETRY


@dataclass(frozen=True, slots=True)
class _Entry:
    error_class: ErrorClass
    message: str
    pull_fallback: bool = False


_R, _M, _C, _Q, _A, _I, _X = (
    ErrorClass.RETRY,
    ErrorClass.FIX_MEDIA,
    ErrorClass.RECONNECT,
    ErrorClass.QUOTA,
    ErrorClass.APP_NOT_AUDITED,
    ErrorClass.INVALID_REQUEST,
    ErrorClass.CANCELLED,
)

_RECONNECT = "Reconnect your TikTok account, then try again."
_TRY_LATER = "TikTok is having a temporary problem. We'll retry automatically; no action is needed."
_CONFIG = "This app's TikTok configuration was rejected by TikTok. Contact support (this is not your fault)."

# Synthetic codes for failures that carry no TikTok code (the TikTok client uses the first two).
TRANSPORT = "transport"  # timeout, connection reset, nothing or a partial answer
BAD_RESPONSE = "bad_response"  # an answer we cannot parse (HTML error page, truncated JSON, wrong shape)
UPLOAD_REJECTED = "upload_rejected"  # chunk PUT 400: bad headers or length mismatch
UPLOAD_URL_EXPIRED = "upload_url_expired"  # chunk PUT 403: the 1-hour upload_url expired
UPLOAD_NOT_FOUND = "upload_not_found"  # chunk PUT 404: TikTok does not know this upload
UPLOAD_RANGE_MISMATCH = (
    "upload_range_mismatch"  # chunk PUT 416: Content-Range is not where TikTok's progress is
)
# TikTok's invalid_params "The chunk size is invalid" on a multi-chunk init (seen since 2026-08, TIKTOK-API.md
# §5): not the post settings at fault but the upload's shape.
MULTI_CHUNK_REFUSED = "multi_chunk_refused"
UNTRUSTED_UPLOAD_URL = "untrusted_upload_url"  # init returned an upload_url off TikTok's upload hosts
# A scheduled post re-checked at dispatch against a fresh creator_info that no longer allows it.
CREATOR_RULES_CHANGED = "creator_rules_changed"
CHUNK_REFUSAL_TEXT = "the chunk size is invalid"

CODES: dict[str, _Entry] = {
    # --- OAuth (§1): the error field of the token/revoke endpoints and of the authorize callback
    "access_denied": _Entry(_X, "You cancelled the TikTok connection. Connect again when you're ready."),
    "invalid_client": _Entry(_I, _CONFIG),
    "invalid_grant": _Entry(_C, "Your TikTok authorization expired or was revoked. " + _RECONNECT),
    "invalid_request": _Entry(
        _I, "TikTok refused the connection request. Start connecting again from the app."
    ),
    "invalid_scope": _Entry(_I, _CONFIG),
    "unauthorized_client": _Entry(_I, _CONFIG),
    "unsupported_grant_type": _Entry(_I, _CONFIG),
    "unsupported_response_type": _Entry(_I, _CONFIG),
    "server_error": _Entry(_R, _TRY_LATER),
    "temporarily_unavailable": _Entry(_R, _TRY_LATER),
    # --- v2 generic codes (§3)
    "access_token_invalid": _Entry(_C, "Your TikTok session is no longer valid. " + _RECONNECT),
    "scope_not_authorized": _Entry(
        _C, "Your TikTok account didn't grant the permission needed to post. " + _RECONNECT
    ),
    "scope_permission_missed": _Entry(
        _C, "Your TikTok account didn't grant a permission this needs. " + _RECONNECT
    ),
    "invalid_params": _Entry(
        _I, "TikTok rejected the request's parameters. Check the post settings and try again."
    ),
    "invalid_param": _Entry(
        _I, "TikTok rejected the request's parameters. Check the post settings and try again."
    ),
    "invalid_file_upload": _Entry(
        _M, "TikTok rejected the file. Use an MP4, MOV or WebM video under 4 GB and try again."
    ),
    "rate_limit_exceeded": _Entry(_R, "TikTok asked us to slow down. We'll retry automatically in a moment."),
    "internal_error": _Entry(_R, _TRY_LATER),
    # --- creator_info and init (§4)
    "spam_risk_too_many_posts": _Entry(
        _Q, "This TikTok account reached its daily post limit. Try again in 24 hours."
    ),
    "spam_risk_user_banned_from_posting": _Entry(
        _Q, "TikTok has blocked this account from posting. Check the account's status in the TikTok app."
    ),
    "reached_active_user_cap": _Entry(
        _Q, "This app reached TikTok's daily limit of creators who can post. Try again tomorrow."
    ),
    "unaudited_client_can_only_post_to_private_accounts": _Entry(
        _A,
        "This app hasn't passed TikTok's review yet, so TikTok only accepts posts visible to you alone "
        "(Only me / SELF_ONLY) from a private account. Make your TikTok account private, choose Only me, "
        "and try again.",
    ),
    "url_ownership_unverified": _Entry(
        _I,
        "TikTok couldn't verify that this app owns the media URL's domain. The video will be uploaded "
        "directly instead; for photo posts, the app's media domain must be verified in TikTok's developer "
        "portal.",
        pull_fallback=True,
    ),
    "privacy_level_option_mismatch": _Entry(
        _I,
        "That privacy setting isn't available for this TikTok account any more. "
        "Choose another and try again.",
    ),
    "spam_risk_too_many_pending_share": _Entry(
        _Q,
        "This account has 5 drafts waiting in the TikTok app. Finish or delete them there, or try again in "
        "24 hours.",
    ),
    # --- status/fetch errors and fail_reason values (§4)
    "invalid_publish_id": _Entry(_I, "TikTok doesn't know this post's upload any more. Start a new post."),
    "token_not_authorized_for_specified_publish_id": _Entry(
        _I, "This post was started by a different TikTok account connection. Start a new post."
    ),
    "file_format_check_failed": _Entry(
        _M, "TikTok couldn't read this video's format. Export it as MP4 (H.264) and try again."
    ),
    "duration_check_failed": _Entry(
        _M, "The video is longer than this TikTok account may post (or too short). Trim it and try again."
    ),
    "frame_rate_check_failed": _Entry(
        _M, "TikTok accepts 23 to 60 frames per second. Export the video at 30 fps and try again."
    ),
    "picture_size_check_failed": _Entry(
        _M,
        "The picture size isn't accepted by TikTok: videos need 360 to 4096 pixels per side and photos "
        "at most 1080p. Resize it and try again.",
    ),
    "internal": _Entry(_R, _TRY_LATER),
    "video_pull_failed": _Entry(
        _R, "TikTok couldn't download the video. We'll upload it directly instead.", pull_fallback=True
    ),
    "photo_pull_failed": _Entry(
        _R, "TikTok couldn't download the photos. We'll retry; if it keeps failing, check the image URLs."
    ),
    "publish_cancelled": _Entry(_X, "The post was cancelled before it was published."),
    "auth_removed": _Entry(_C, "The TikTok account disconnected this app. " + _RECONNECT),
    "spam_risk_text": _Entry(
        _Q, "TikTok flagged the post's text as spam. Change the title or description and post again."
    ),
    "spam_risk": _Entry(
        _Q, "TikTok's anti-spam checks refused this post. Wait a few hours before posting again."
    ),
    # --- no TikTok code: transport, garbage answers, chunk PUT statuses (§5)
    TRANSPORT: _Entry(_R, "TikTok didn't answer in time. We'll retry automatically."),
    BAD_RESPONSE: _Entry(_R, "TikTok sent an answer we couldn't read. We'll retry automatically."),
    UPLOAD_REJECTED: _Entry(
        _I, "TikTok refused a part of the upload. Start a new post; contact support if it repeats."
    ),
    # No video is created until the last chunk arrives, so a fresh init is safe after these two.
    UPLOAD_URL_EXPIRED: _Entry(
        _R, "The upload took longer than TikTok allows. We'll start the upload again."
    ),
    UPLOAD_NOT_FOUND: _Entry(_R, "TikTok lost track of the upload. We'll start the upload again."),
    UPLOAD_RANGE_MISMATCH: _Entry(
        _R, "The upload got out of step with TikTok. We'll resume where TikTok left off."
    ),
}

# Failures the product names itself (issue 12): what TikTok said is quoted in the message where it said
# anything; looked up by classify() like TikTok's codes.
OUR_CODES: dict[str, _Entry] = {
    MULTI_CHUNK_REFUSED: _Entry(
        _M,
        "TikTok refused to receive this video in several parts. Since August 2026 TikTok has taken uploaded "
        "videos only in one part, of at most 64 MB. Export the video at 64 MB or less and post it again, or "
        "let TikTok download it: configure a media domain verified at TikTok (MEDIA_PULL_MODE, "
        "MEDIA_PULL_BASE_URL).",
    ),
    CREATOR_RULES_CHANGED: _Entry(
        _I,
        "This scheduled post no longer fits what the TikTok account allows. Edit the post and schedule it "
        "again.",
    ),
    UNTRUSTED_UPLOAD_URL: _Entry(
        _I,
        "TikTok's answer named an upload address outside TikTok's upload hosts, so no byte of the video "
        "was sent. Post it again; contact support if it repeats.",
    ),
}

_UPLOAD_STATUS_CODES = {
    400: UPLOAD_REJECTED,
    403: UPLOAD_URL_EXPIRED,
    404: UPLOAD_NOT_FOUND,
    416: UPLOAD_RANGE_MISMATCH,
}


_INVALID_PARAMS = frozenset({"invalid_params", "invalid_param"})
_QUOTED_MAX = 300  # characters of TikTok's own message carried into ours


def classify(
    code: str | None, http_status: int | None = None, *, tiktok_message: str | None = None
) -> ErrorInfo:
    """Classify a TikTok error code (v2 ``error.code``, OAuth ``error``, or status ``fail_reason``).

    Known codes ignore the HTTP status (some arrive with 200 on purpose). Unknown or missing codes fall back
    by status: 429 and 5xx retry, 401 reconnect, anything else is final with a message that names the code.
    For invalid_params, TikTok's own message (``tiktok_message``) is the only thing that says which parameter
    is wrong, so it is quoted in ours.
    """
    normalized = (code or "").strip().lower()
    entry = CODES.get(normalized) or OUR_CODES.get(normalized)
    if entry is not None:
        message = entry.message
        quoted = _quote(tiktok_message)
        if normalized in _INVALID_PARAMS and quoted:
            message = (
                f"TikTok refused the request's parameters: {quoted}. Change what it names and post again; "
                "if it names nothing you chose, contact support with the log id."
            )
        return ErrorInfo(normalized, entry.error_class, message, http_status, entry.pull_fallback)
    shown = normalized or "none"
    if http_status is not None and (http_status == 429 or 500 <= http_status <= 599):
        return ErrorInfo(shown, ErrorClass.RETRY, _TRY_LATER, http_status)
    if http_status == 401:
        return ErrorInfo(
            shown,
            ErrorClass.RECONNECT,
            "TikTok no longer accepts this connection. " + _RECONNECT,
            http_status,
        )
    status_text = f", HTTP {http_status}" if http_status is not None else ""
    return ErrorInfo(
        shown,
        ErrorClass.UNKNOWN,
        f"TikTok refused the request (code {shown!r}{status_text}). Try again later; if it keeps failing, "
        "contact support with this code.",
        http_status,
    )


def _quote(text: str | None) -> str | None:
    """TikTok's message as a short quotation (None when it says nothing)."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        return None
    if len(cleaned) > _QUOTED_MAX:
        cleaned = cleaned[: _QUOTED_MAX - 1] + "…"
    return f'"{cleaned}"'


def is_chunk_refusal(code: str | None, tiktok_message: str | None) -> bool:
    """TikTok's refusal of a chunk plan: invalid_params "The chunk size is invalid" (TIKTOK-API.md §5)."""
    return (code or "").strip().lower() in _INVALID_PARAMS and CHUNK_REFUSAL_TEXT in (
        tiktok_message or ""
    ).lower()


def chunk_refusal(tiktok_message: str | None, http_status: int | None = None) -> ErrorInfo:
    """A multi-chunk upload TikTok refused, with nothing to route around it: TikTok's words and what to do."""
    entry = OUR_CODES[MULTI_CHUNK_REFUSED]
    quoted = _quote(tiktok_message) or '"The chunk size is invalid"'
    message = entry.message.replace("in several parts.", f"in several parts (invalid_params: {quoted}).", 1)
    return ErrorInfo(MULTI_CHUNK_REFUSED, entry.error_class, message, http_status)


def rules_changed(reasons: list[str]) -> ErrorInfo:
    """A scheduled post that a fresh creator_info no longer allows: each rule that stopped holding, then
    what to do."""
    entry = OUR_CODES[CREATOR_RULES_CHANGED]
    said = " ".join(reason.strip() for reason in reasons if reason.strip())
    message = f"Since this post was scheduled, the TikTok account's settings changed: {said} {entry.message}"
    return ErrorInfo(CREATOR_RULES_CHANGED, entry.error_class, message.strip())


# What a post that ENDED with an error says: no promise of an automatic retry or fallback that will not come,
# and true for the post's media type (issue 12: a photo post was told "The video will be uploaded directly").
_SETTLED: dict[tuple[str, str | None], str] = {
    ("url_ownership_unverified", "video"): (
        "TikTok couldn't verify that this app owns the domain of the video's URL, and the video could not be "
        "uploaded directly instead. Verify the domain (or URL prefix) in TikTok's developer portal, or post "
        "an uploaded file, and try again."
    ),
    ("url_ownership_unverified", "photo"): (
        "TikTok couldn't verify that this app owns the domain of the photos' URLs. TikTok always downloads "
        "photo posts, so the app's media domain (or URL prefix) must be verified in TikTok's developer "
        "portal. Verify it and post again."
    ),
    ("video_pull_failed", None): (
        "TikTok couldn't download the video, also after trying again. Check that the media URL is reachable "
        "from the internet (MEDIA_PULL_BASE_URL), then post again."
    ),
    ("photo_pull_failed", None): (
        "TikTok couldn't download the photos, also after trying again. Check that the image URLs are "
        "reachable from the internet and on the verified domain, then post again."
    ),
    ("internal", None): (
        "TikTok failed to process this {media} on its side, also when it was sent again. Post it again "
        "later; if it keeps failing, contact TikTok support with the log id."
    ),
    (UPLOAD_URL_EXPIRED, None): (
        "The upload took longer than TikTok allows, several times. Post the video again; a smaller file "
        "uploads faster."
    ),
    (UPLOAD_NOT_FOUND, None): "TikTok lost track of the upload several times. Post the video again later.",
    (UPLOAD_RANGE_MISMATCH, None): (
        "The upload got out of step with TikTok and could not be resumed. Post the video again."
    ),
}
_MEDIA_NOUN = {"video": "video", "photo": "photo post"}


def settled(error: ErrorInfo, *, media: str) -> ErrorInfo:
    """The error as a post that ended with it reports it (its class and code unchanged).

    Messages written for the moment an error happens may promise what comes next ("We'll retry
    automatically", "The video will be uploaded directly instead"); once the post has ended that is false.
    Each such message is replaced here by one that is true for the post's media type.
    """
    text = _SETTLED.get((error.code, media)) or _SETTLED.get((error.code, None))
    if text is None and error.error_class is ErrorClass.RETRY:
        text = (
            f"TikTok kept failing ({error.code}) after several attempts, so this {{media}} was not posted. "
            "Post it again later; if it keeps failing, contact support with the log id."
        )
    if text is None:
        return error
    message = text.replace("{media}", _MEDIA_NOUN.get(media, "post"))
    return ErrorInfo(error.code, error.error_class, message, error.http_status, error.pull_fallback)


def classify_upload_status(http_status: int) -> ErrorInfo:
    """Classify the HTTP status of a chunk PUT that was not 201/206 (§5)."""
    code = _UPLOAD_STATUS_CODES.get(http_status)
    return classify(code, http_status) if code else classify(None, http_status)


TOKEN_REPLACED_MESSAGE = "The account's TikTok authorization was renewed while TikTok was asked. Try again."


def creator_info_refused(exc: TikTokError, *, mark_token_dead: Callable[[TikTokError], bool]) -> DomainError:
    """What to raise when TikTok refused creator_info (TIKTOK-API.md §4, §8), after the caller's one forced
    refresh and retry for an early `access_token_invalid`.

    `access_token_invalid` still, even on a freshly issued token: AccountNeedsReconnect for this call, but
    the account is not marked (only a refresh answering invalid_grant proves the grant dead; the next call
    tries one forced refresh again). Another RECONNECT-class answer (a scope the user did not grant) means
    the grant cannot do this: `mark_token_dead(exc)` marks the account through the refresher's conditional
    mark (AccountNeedsReconnect), or says False when a refresh or reconnect replaced the token meanwhile,
    whose tokens stand (UpstreamError, retryable). A QUOTA answer means the creator cannot post now, and the
    form must stop and say so (CreatorCannotPost).
    """
    problem = classify(exc.code, exc.http_status)
    details: dict[str, object] = {"tiktok_code": exc.code, "log_id": exc.log_id}
    if token_rejected(exc):
        return AccountNeedsReconnect(problem.message, details=details)
    if problem.error_class is ErrorClass.RECONNECT:
        if mark_token_dead(exc):
            return AccountNeedsReconnect(problem.message, details=details)
        return UpstreamError(TOKEN_REPLACED_MESSAGE, details=details)
    if problem.error_class is ErrorClass.QUOTA:
        return CreatorCannotPost(problem.message, details=details)
    return UpstreamError(problem.message, details=details)


# Per access token, per minute (TIKTOK-API.md §6).
RATE_LIMITS_PER_MINUTE: dict[str, int] = {
    "init": 6,
    "creator_info": 20,
    "status": 30,
    "user_info": 600,
}


def min_spacing_s(endpoint: str) -> float:
    """Smallest spacing of two calls of one token to ``endpoint`` within its limit (init: 10 s)."""
    return 60.0 / RATE_LIMITS_PER_MINUTE[endpoint]


class Rng(Protocol):
    def random(self) -> float: ...


_DEFAULT_RNG = random.Random()  # jitter, not security: S311 does not apply


def backoff_delay(
    attempt: int,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    rng: Rng = _DEFAULT_RNG,
    floor: float = 0.0,
) -> float:
    """Full-jitter exponential backoff: uniform in [floor, min(cap, base * 2**attempt)] seconds.

    ``attempt`` counts from 0 (the first retry). ``floor`` keeps rate-limited retries spaced (e.g.
    ``min_spacing_s("init")``); it never exceeds ``cap``.
    """
    if attempt < 0 or base < 0 or cap < 0 or floor < 0:
        raise ValueError("attempt, base, cap and floor must be non-negative")
    # 2.0**1000 is still a finite float; base * it may be inf, which min() turns into the cap.
    ceiling = min(cap, base * 2.0 ** min(attempt, 1000))
    low = min(floor, cap)
    high = max(low, ceiling)
    return low + rng.random() * (high - low)
