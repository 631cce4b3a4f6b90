"""TikTokClient: the only code that talks HTTP to TikTok (Login Kit OAuth v2 + Content Posting API).

One requests.Session per client (connection pool, keep-alive), explicit (connect, read) timeouts on every
call, and retries only where repeating the request cannot do harm:

| call                         | retried on                                                             |
|------------------------------|------------------------------------------------------------------------|
| user_info, creator_info,     | transport errors, 429, 5xx, retryable error codes (also 200-with-error)|
| fetch_status, revoke         |                                                                        |
| refresh                      | only failures before the request left (connect errors): with strict    |
|                              | rotation a refresh that ran but whose answer was lost must not repeat   |
| exchange_code, init_*,       | never (single-use code; init creates a publish task)                    |
| cancel, upload_chunk         |                                                                        |

Tokens go in form bodies or the Authorization header only; no exception or log line carries them.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from tiktok_publisher.domain.taxonomy import UNTRUSTED_UPLOAD_URL
from tiktok_publisher.domain.tiktok import (
    ChunkResult,
    CreatorInfo,
    InitResult,
    PublishStatus,
    TokenSet,
    UserInfo,
    UserStats,
    VideoStats,
)
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError, TikTokTransportError
from tiktok_publisher.domain.upload_url import upload_url_trusted
from tiktok_publisher.observability import logger

TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
INBOX_INIT_PATH = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
CANCEL_PATH = "/v2/post/publish/cancel/"
VIDEO_QUERY_PATH = "/v2/video/query/"

DEFAULT_USER_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")
STATS_USER_FIELDS = ("open_id", "follower_count", "following_count", "likes_count", "video_count")
VIDEO_QUERY_FIELDS = ("id", "view_count", "like_count", "comment_count", "share_count")
MAX_VIDEO_IDS = 20
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
LOG_ID_HEADER = "x-tt-logid"
_MAX_BACKOFF_S = 4.0
_BASE_BACKOFF_S = 0.25


class _Retry(Enum):
    NEVER = "never"
    PRE_SEND = "pre_send"  # only when the request certainly never reached TikTok
    SAFE = "safe"  # the call is read-only or idempotent


class _SizedBody:
    """An iterable body with a known length.

    requests sends a bare generator with `Transfer-Encoding: chunked`, which TikTok's upload endpoint
    refuses; giving the body a __len__ makes requests send `Content-Length` instead while still streaming
    (memory stays bounded by the producer's piece size). The byte count is enforced both ways: a producer
    that yields more or fewer bytes than announced aborts the request instead of desynchronising it.
    """

    def __init__(self, pieces: Iterable[bytes], length: int) -> None:
        self._pieces = pieces
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for piece in self._pieces:
            if not piece:
                continue
            sent += len(piece)
            if sent > self._length:
                raise ValueError("chunk body longer than its Content-Range")
            yield bytes(piece)
        if sent != self._length:
            raise ValueError("chunk body shorter than its Content-Range")


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """`bytes 0-LAST/TOTAL` -> (LAST, TOTAL); tolerant of `bytes */TOTAL` and absence."""
    if not value:
        return None, None
    try:
        unit, _, spec = value.strip().partition(" ")
        if unit.lower() != "bytes":
            return None, None
        span, _, total_text = spec.partition("/")
        total = int(total_text) if total_text.strip().isdigit() else None
        if "-" not in span:
            return None, total
        return int(span.split("-", 1)[1]), total
    except ValueError:
        return None, None


def _is_pre_send_failure(exc: requests.RequestException) -> bool:
    """True when the request provably never left: connect timeout, refused, DNS failure."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


class TikTokClient:
    """HTTP client for TikTok's OAuth v2 and v2 Content Posting endpoints (TIKTOK-API.md §1-§5)."""

    def __init__(
        self,
        api_base: str,
        *,
        client_key: str,
        client_secret: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 15),
        retries: int = 2,
        upload_timeout: tuple[float, float] = (3.05, 120),
        sleep: Callable[[float], None] = time.sleep,
        upload_origins: Sequence[str] = (),
    ) -> None:
        self._api_base = api_base.rstrip("/")
        self._client_key = client_key
        self._client_secret = client_secret
        self._timeout = timeout
        self._upload_timeout = upload_timeout
        self._retries = max(0, retries)
        self._sleep = sleep
        # Where an upload_url may point besides TikTok's upload hosts: the emulator, by local configuration.
        self._upload_origins = tuple(upload_origins)
        if session is None:
            session = requests.Session()
            # Retries are ours (per call kind), never urllib3's blanket ones.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        session.headers["User-Agent"] = "tiktok-publisher/0.1"
        self._session = session

    def __repr__(self) -> str:
        return f"TikTokClient(api_base={self._api_base!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    # ------------------------------------------------------------------ OAuth (form bodies, flat answers)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """Trade an authorization code for tokens. Never retried: the code is single-use."""
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = self._oauth_call("token_exchange", TOKEN_PATH, form, _Retry.NEVER)
        return token_set_from(body)

    def refresh(self, refresh_token: str) -> TokenSet:
        """Get a new token pair. Retried only when the request never left (rotation makes a replay lose)."""
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        body = self._oauth_call("token_refresh", TOKEN_PATH, form, _Retry.PRE_SEND)
        return token_set_from(body)

    def revoke(self, access_token: str) -> None:
        """Revoke the user's authorization (idempotent, so retried)."""
        form = {"client_key": self._client_key, "client_secret": self._client_secret, "token": access_token}
        self._oauth_call("revoke", REVOKE_PATH, form, _Retry.SAFE)

    # ------------------------------------------------------------------ v2 (JSON, Bearer, envelope)

    def user_info(self, access_token: str, fields: Sequence[str] = DEFAULT_USER_FIELDS) -> UserInfo:
        """GET /v2/user/info/ for the token's user."""
        data = self._v2_call(
            "user_info",
            "GET",
            USER_INFO_PATH,
            access_token,
            params={"fields": ",".join(fields)},
            retry=_Retry.SAFE,
        )
        user = data.get("user")
        if not isinstance(user, dict):
            raise TikTokTransportError("bad_response", "user_info answer without data.user")
        return UserInfo.model_validate(user)

    def creator_info(self, access_token: str) -> CreatorInfo:
        """What the creator may post right now (privacy options, disabled interactions, max duration)."""
        data = self._v2_call(
            "creator_info", "POST", CREATOR_INFO_PATH, access_token, json_body={}, retry=_Retry.SAFE
        )
        return _validate(CreatorInfo, data, "creator_info")

    def init_video(
        self,
        access_token: str,
        *,
        inbox: bool,
        post_info: Mapping[str, Any] | None,
        source_info: Mapping[str, Any],
    ) -> InitResult:
        """Create a video publish task (direct post or inbox draft). Never retried: it may exist already."""
        if inbox:
            body: dict[str, Any] = {"source_info": dict(source_info)}
            data = self._v2_call("inbox_init", "POST", INBOX_INIT_PATH, access_token, json_body=body)
        else:
            body = {"post_info": dict(post_info or {}), "source_info": dict(source_info)}
            data = self._v2_call("video_init", "POST", VIDEO_INIT_PATH, access_token, json_body=body)
        return _validate(InitResult, data, "init")

    def init_photo(self, access_token: str, *, body: Mapping[str, Any]) -> InitResult:
        """Create a photo post task (/v2/post/publish/content/init/). Never retried."""
        data = self._v2_call("photo_init", "POST", CONTENT_INIT_PATH, access_token, json_body=dict(body))
        return _validate(InitResult, data, "init")

    def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus:
        """Status of a publish task; post ids come back as exact decimal strings (int64 never via float)."""
        data = self._v2_call(
            "status",
            "POST",
            STATUS_PATH,
            access_token,
            json_body={"publish_id": publish_id},
            retry=_Retry.SAFE,
            exact_ints=True,
        )
        return publish_status_from(data)

    def query_videos(self, access_token: str, video_ids: Sequence[str]) -> list[VideoStats]:
        """POST /v2/video/query/ for up to 20 of the user's public videos (video.list). Ids go out as strings
        and come back as exact decimal text whether TikTok writes them as strings or raw int64 numbers;
        videos that are not (or no longer) the user's public ones are simply absent."""
        ids = [str(v) for v in video_ids]
        if not 1 <= len(ids) <= MAX_VIDEO_IDS or not all(i.isdigit() for i in ids):
            raise ValueError("1 to 20 video ids, each a string of digits")
        data = self._v2_call(
            "video_query",
            "POST",
            VIDEO_QUERY_PATH,
            access_token,
            params={"fields": ",".join(VIDEO_QUERY_FIELDS)},
            json_body={"filters": {"video_ids": ids}},
            retry=_Retry.SAFE,
            exact_ints=True,
        )
        videos = data.get("videos")
        if not isinstance(videos, list):
            raise TikTokTransportError("bad_response", "video_query answer without data.videos")
        return [_validate(VideoStats, v if isinstance(v, dict) else {}, "video_query") for v in videos]

    def user_stats(self, access_token: str) -> UserStats:
        """GET /v2/user/info/ with the user.info.stats fields."""
        data = self._v2_call(
            "user_info",
            "GET",
            USER_INFO_PATH,
            access_token,
            params={"fields": ",".join(STATS_USER_FIELDS)},
            retry=_Retry.SAFE,
            exact_ints=True,
        )
        user = data.get("user")
        if not isinstance(user, dict):
            raise TikTokTransportError("bad_response", "user_info answer without data.user")
        return _validate(UserStats, user, "user_info")

    def cancel(self, access_token: str, publish_id: str) -> None:
        """Best-effort cancel of a PULL_FROM_URL download."""
        self._v2_call("cancel", "POST", CANCEL_PATH, access_token, json_body={"publish_id": publish_id})

    def upload_chunk(
        self,
        upload_url: str,
        data: Iterable[bytes] | bytes,
        *,
        first: int,
        last: int,
        total: int,
        content_type: str,
    ) -> ChunkResult:
        """PUT bytes first..last (inclusive) of `total` to the opaque upload_url. Not retried here: the
        caller decides from the status (5xx: same chunk again; 416: resync from received_last)."""
        if not 0 <= first <= last < total:
            raise ValueError("invalid chunk range")
        if not upload_url_trusted(upload_url, self._upload_origins):
            # Checked before a byte leaves: only the failure is reported, never the URL (a capability).
            logger.error("upload_url outside TikTok's upload hosts refused")
            raise TikTokError(UNTRUSTED_UPLOAD_URL, "the upload_url is not on TikTok's upload hosts")
        length = last - first + 1
        if isinstance(data, bytes | bytearray | memoryview):
            if len(data) != length:
                raise ValueError("chunk body length does not match its Content-Range")
            body: Any = bytes(data)
        else:
            body = _SizedBody(data, length)
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(length),
            "Content-Range": f"bytes {first}-{last}/{total}",
        }
        try:
            response = self._session.put(
                upload_url, data=body, headers=headers, timeout=self._upload_timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            # The URL is a capability: report only the failure class.
            raise TikTokTransportError("transport", f"chunk upload failed ({type(exc).__name__})") from None
        received_last, reported_total = _parse_content_range(response.headers.get("Content-Range"))
        error_code: str | None = None
        log_id = response.headers.get(LOG_ID_HEADER)
        if response.status_code >= 400:
            try:
                payload = response.json()
                error = payload.get("error") if isinstance(payload, dict) else None
                if isinstance(error, dict):
                    error_code = str(error.get("code") or "") or None
                    log_id = error.get("log_id") or log_id
            except ValueError:
                pass
        logger.debug(
            "tiktok chunk answered",
            extra={"status_code": response.status_code, "received_last": received_last, "total": total},
        )
        return ChunkResult(response.status_code, received_last, reported_total, error_code, log_id)

    # ------------------------------------------------------------------ plumbing

    def _oauth_call(self, name: str, path: str, form: Mapping[str, str], retry: _Retry) -> dict[str, Any]:
        response = self._send(name, "POST", path, retry=retry, data=dict(form))
        return parse_oauth_answer(name, response.status_code, response.headers, response.content)

    def _v2_call(
        self,
        name: str,
        method: str,
        path: str,
        access_token: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        retry: _Retry = _Retry.NEVER,
        exact_ints: bool = False,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        payload: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
            payload = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        response = self._send(
            name, method, path, retry=retry, headers=headers, params=params, data=payload, check_envelope=True
        )
        return parse_v2_answer(
            name, response.status_code, response.headers, response.content, exact_ints=exact_ints
        )

    def _send(
        self,
        name: str,
        method: str,
        path: str,
        *,
        retry: _Retry,
        check_envelope: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """One logical call with the retry policy of its kind; returns the final response."""
        url = self._api_base + path
        attempts = 1 + (self._retries if retry is not _Retry.NEVER else 0)
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                # No redirects: TikTok's API does not redirect, and following one would replay credentials.
                response = self._session.request(
                    method, url, timeout=self._timeout, allow_redirects=False, **kwargs
                )
            except requests.RequestException as exc:
                retryable = retry is _Retry.SAFE or (retry is _Retry.PRE_SEND and _is_pre_send_failure(exc))
                logger.warning(
                    "tiktok call failed in transport",
                    extra={"call": name, "attempt": attempt, "error_class": type(exc).__name__},
                )
                if retryable and attempt < attempts:
                    self._backoff(attempt, None)
                    continue
                kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
                raise TikTokTransportError("transport", f"{name} {kind} ({type(exc).__name__})") from None
            elapsed_ms = int((time.monotonic() - started) * 1000)
            if retry is _Retry.SAFE and attempt < attempts and self._should_retry(response, check_envelope):
                logger.warning(
                    "tiktok call answered retryable",
                    extra={
                        "call": name,
                        "attempt": attempt,
                        "status_code": response.status_code,
                        "log_id": response.headers.get(LOG_ID_HEADER),
                        "elapsed_ms": elapsed_ms,
                    },
                )
                self._backoff(attempt, response.headers.get("Retry-After"))
                continue
            logger.debug(
                "tiktok call answered",
                extra={"call": name, "status_code": response.status_code, "elapsed_ms": elapsed_ms},
            )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _should_retry(response: requests.Response, check_envelope: bool) -> bool:
        if response.status_code == 429 or response.status_code >= 500:
            return True
        if not check_envelope:
            return False
        try:
            body = response.json()
        except ValueError:
            return True  # garbage from a healthy-looking answer: a read-only call may simply ask again
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code in {"rate_limit_exceeded", "internal_error"}

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        delay: float | None = None
        if retry_after and retry_after.strip().isdigit():
            delay = min(float(retry_after.strip()), _MAX_BACKOFF_S)
        if delay is None:
            # Full jitter: spreads a burst of containers hitting the same limit.
            delay = random.uniform(0, min(_MAX_BACKOFF_S, _BASE_BACKOFF_S * 2 ** (attempt - 1)))
        self._sleep(delay)


# ---------------------------------------------------------------------- pure answer parsing (unit-tested)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or None


def decode_body(
    call: str, status: int, headers: Mapping[str, str], content: bytes, *, exact_ints: bool = False
) -> dict[str, Any]:
    """The JSON object of an answer; TikTokTransportError("bad_response") for anything else.

    exact_ints keeps every integer as its decimal text (int64 post ids must never pass through float).
    """
    try:
        text = content.decode("utf-8")
        body = json.loads(text, parse_int=str) if exact_ints else json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise TikTokTransportError(
            "bad_response",
            f"{call} answered a non-JSON body",
            http_status=status,
            log_id=_header(headers, LOG_ID_HEADER),
        ) from None
    if not isinstance(body, dict):
        raise TikTokTransportError(
            "bad_response",
            f"{call} answered a non-object body",
            http_status=status,
            log_id=_header(headers, LOG_ID_HEADER),
        )
    return body


def answer_log_id(body: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """log_id from the v2 envelope, the flat OAuth body, or the x-tt-logid header, in that order."""
    error = body.get("error")
    if isinstance(error, dict) and error.get("log_id"):
        return str(error["log_id"])
    if body.get("log_id"):
        return str(body["log_id"])
    return _header(headers, LOG_ID_HEADER)


def parse_oauth_answer(call: str, status: int, headers: Mapping[str, str], content: bytes) -> dict[str, Any]:
    """Body of an OAuth endpoint answer, or OAuthError when it carries `error` (whatever the HTTP status)."""
    body = decode_body(call, status, headers, content)
    error = body.get("error")
    log_id = answer_log_id(body, headers)
    if isinstance(error, str) and error:
        # Flat OAuth error; 200-with-error is seen in the wild, so the body decides, not the status.
        raise OAuthError(error, str(body.get("error_description") or ""), http_status=status, log_id=log_id)
    if isinstance(error, dict) and error.get("code") not in (None, "", "ok"):
        raise TikTokError(
            str(error.get("code")), str(error.get("message") or ""), http_status=status, log_id=log_id
        )
    if status >= 400:
        raise TikTokError(f"http_{status}", "", http_status=status, log_id=log_id)
    return body


def parse_v2_answer(
    call: str, status: int, headers: Mapping[str, str], content: bytes, *, exact_ints: bool = False
) -> dict[str, Any]:
    """`data` of a v2 envelope when error.code == "ok"; TikTokError otherwise (any HTTP status)."""
    body = decode_body(call, status, headers, content, exact_ints=exact_ints)
    error = body.get("error")
    log_id = answer_log_id(body, headers)
    if not isinstance(error, dict):
        if isinstance(error, str) and error:  # an OAuth-shaped error from a v2 endpoint: still an error
            raise TikTokError(
                error, str(body.get("error_description") or ""), http_status=status, log_id=log_id
            )
        if status >= 400:
            raise TikTokError(f"http_{status}", "", http_status=status, log_id=log_id)
        raise TikTokTransportError(
            "bad_response", f"{call} answer without error envelope", http_status=status, log_id=log_id
        )
    if error.get("code") != "ok":
        raise TikTokError(
            str(error.get("code") or "unknown"),
            str(error.get("message") or ""),
            http_status=status,
            log_id=log_id,
        )
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def token_set_from(body: Mapping[str, Any]) -> TokenSet:
    """TokenSet from the flat token answer; `scope` is comma-separated."""
    try:
        scope = body.get("scope") or ""
        scopes = [s.strip() for s in str(scope).split(",") if s.strip()]
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            open_id=str(body["open_id"]),
            scopes=scopes,
            expires_in=int(body["expires_in"]),
            refresh_expires_in=int(body["refresh_expires_in"]),
        )
    except (KeyError, TypeError, ValueError):
        # Never echo the body: it holds tokens.
        raise TikTokTransportError("bad_response", "token answer is missing fields") from None


def publish_status_from(data: Mapping[str, Any]) -> PublishStatus:
    """PublishStatus from status/fetch data parsed with exact_ints (post ids stay exact strings)."""
    raw_ids = data.get("publicaly_available_post_id")  # TikTok's spelling
    if raw_ids is None:
        raw_ids = data.get("publicly_available_post_id")
    if raw_ids is not None and not isinstance(raw_ids, list):
        raw_ids = [raw_ids]
    post_ids = [str(item) for item in raw_ids or [] if item is not None and str(item) != ""]
    shaped = {
        "status": data.get("status"),
        "fail_reason": data.get("fail_reason") or None,
        "post_ids": post_ids,
        "uploaded_bytes": data.get("uploaded_bytes"),
        "downloaded_bytes": data.get("downloaded_bytes"),
    }
    return _validate(PublishStatus, shaped, "status")


def _validate(model: Any, data: Mapping[str, Any], call: str) -> Any:
    try:
        return model.model_validate(data)
    except ValueError:
        raise TikTokTransportError("bad_response", f"{call} answer has an unexpected shape") from None
