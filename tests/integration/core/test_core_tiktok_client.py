"""TikTokClient against the emulator over real HTTP: every call, every failure shape, which calls retry."""

from __future__ import annotations

import hashlib
import http.server
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4
from tiktok_publisher.adapters.tiktok_client import TikTokClient
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError, TikTokTransportError

ALL_FIELDS = ["open_id", "union_id", "avatar_url", "display_name", "username"]


class CountingSession(requests.Session):
    """A real session that counts what it sends, per path (to see retries; nothing is stubbed)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: Counter[str] = Counter()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent[urlsplit(str(request.url)).path] += 1
        return super().send(request, **kwargs)


@pytest.fixture
def session() -> Iterator[CountingSession]:
    s = CountingSession()
    yield s
    s.close()


def make_client(
    emulator: EmulatorHandle, session: requests.Session | None = None, **kwargs: Any
) -> TikTokClient:
    kwargs.setdefault("sleep", lambda _s: None)
    kwargs.setdefault("upload_origins", [emulator.base_url])  # the emulator's uploads: local configuration
    return TikTokClient(
        emulator.base_url,
        client_key=emulator.config.client_key,
        client_secret=emulator.config.client_secret,
        session=session,
        **kwargs,
    )


def authorize_code(emulator: EmulatorHandle, account: str = "creator_private") -> tuple[str, str, str]:
    """Run the consent step (auto-approved) and return (code, verifier, redirect_uri)."""
    verifier = secrets.token_urlsafe(48)
    url = emulator.authorize_url(
        ["user.info.basic", "user.info.profile", "video.publish", "video.upload"],
        code_challenge=hashlib.sha256(verifier.encode()).hexdigest(),
        code_challenge_method="S256",
        auto_approve="1",
        auto_approve_user=account,
    )
    location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    return code, verifier, emulator.config.redirect_uris[0]


def upload_source(size: int) -> dict[str, Any]:
    return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size, "total_chunk_count": 1}


# ------------------------------------------------------------------ happy paths


def test_exchange_code_returns_tokens_and_granted_scopes(emulator: EmulatorHandle) -> None:
    code, verifier, redirect_uri = authorize_code(emulator)

    tokens = make_client(emulator).exchange_code(code, redirect_uri, verifier)

    assert tokens.access_token.startswith("act.")
    assert tokens.refresh_token.startswith("rft.")
    assert tokens.open_id == emulator.config.account("creator_private").open_id  # type: ignore[union-attr]
    assert set(tokens.scopes) == {"user.info.basic", "user.info.profile", "video.publish", "video.upload"}
    assert tokens.expires_in > 0
    assert tokens.refresh_expires_in > tokens.expires_in


def test_a_code_works_once(emulator: EmulatorHandle) -> None:
    code, verifier, redirect_uri = authorize_code(emulator)
    client = make_client(emulator)
    client.exchange_code(code, redirect_uri, verifier)

    with pytest.raises(OAuthError) as caught:
        client.exchange_code(code, redirect_uri, verifier)

    assert caught.value.code == "invalid_grant"
    assert caught.value.log_id
    assert code not in str(caught.value)


def test_wrong_verifier_is_refused(emulator: EmulatorHandle) -> None:
    code, _verifier, redirect_uri = authorize_code(emulator)

    with pytest.raises(OAuthError) as caught:
        make_client(emulator).exchange_code(code, redirect_uri, "not-the-verifier")

    assert caught.value.code in {"invalid_grant", "invalid_request"}


def test_wrong_client_secret_is_invalid_client(emulator: EmulatorHandle) -> None:
    code, verifier, redirect_uri = authorize_code(emulator)
    client = TikTokClient(emulator.base_url, client_key=emulator.config.client_key, client_secret="wrong")

    with pytest.raises(OAuthError) as caught:
        client.exchange_code(code, redirect_uri, verifier)

    assert caught.value.code == "invalid_client"


def test_refresh_rotates_and_the_old_refresh_token_dies(emulator: EmulatorHandle) -> None:
    first = emulator.connect("creator_private")
    client = make_client(emulator)

    second = client.refresh(first["refresh_token"])

    assert second.refresh_token != first["refresh_token"]
    assert client.user_info(second.access_token, ["open_id"]).open_id == first["open_id"]
    with pytest.raises(OAuthError) as caught:
        client.refresh(first["refresh_token"])
    assert caught.value.code == "invalid_grant"
    assert caught.value.is_retryable is False


def test_revoke_kills_the_access_token(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")
    client = make_client(emulator)

    client.revoke(tokens["access_token"])

    with pytest.raises(TikTokError) as caught:
        client.user_info(tokens["access_token"], ["open_id"])
    assert caught.value.code == "access_token_invalid"
    assert caught.value.http_status == 401
    assert caught.value.log_id


def test_user_info_returns_the_profile(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_public")

    user = make_client(emulator).user_info(tokens["access_token"], ALL_FIELDS)

    assert user.open_id == tokens["open_id"]
    assert user.display_name == "Creator Public"
    assert user.username == "creator_public"
    assert user.avatar_url
    assert user.avatar_url.startswith("https://")


def test_user_info_field_outside_scope_is_scope_permission_missed(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_public", ["user.info.basic", "video.publish"])

    with pytest.raises(TikTokError) as caught:
        make_client(emulator).user_info(tokens["access_token"], ["open_id", "username"])

    assert caught.value.code == "scope_permission_missed"


def test_creator_info_reflects_the_account(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")

    info = make_client(emulator).creator_info(tokens["access_token"])

    assert info.privacy_level_options == ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert info.duet_disabled is True
    assert info.stitch_disabled is True
    assert info.max_video_post_duration_sec == 300


def test_direct_post_upload_and_status(emulator: EmulatorHandle) -> None:
    emulator.configure(processing_delay=0)
    tokens = emulator.connect("creator_private")
    client = make_client(emulator)
    video = fake_mp4(1_200_000)
    size = len(video)

    init = client.init_video(
        tokens["access_token"],
        inbox=False,
        post_info={"privacy_level": "SELF_ONLY", "title": "héllo 👋"},
        source_info=upload_source(size),
    )
    assert init.publish_id
    assert init.upload_url

    # Streamed from a generator: the client must send Content-Length, not chunked encoding.
    pieces = (video[i : i + 65536] for i in range(0, size, 65536))
    result = client.upload_chunk(
        init.upload_url, pieces, first=0, last=size - 1, total=size, content_type="video/mp4"
    )

    assert result.status_code == 201
    assert result.complete
    assert result.received_last == size - 1
    assert result.total == size
    assert emulator.received_bytes(init.publish_id) == video
    assert emulator.post(init.publish_id)["post_info"]["title"] == "héllo 👋"
    status = emulator.wait_for(lambda: _terminal(client, tokens["access_token"], init.publish_id))
    assert status.status == "PUBLISH_COMPLETE"


def _terminal(client: TikTokClient, token: str, publish_id: str) -> Any:
    status = client.fetch_status(token, publish_id)
    return status if status.status in {"PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"} else None


def test_multi_chunk_upload_reports_progress(emulator: EmulatorHandle) -> None:
    emulator.configure(processing_delay=0)
    tokens = emulator.connect("creator_private")
    client = make_client(emulator)
    chunk = 5 * 1024 * 1024
    video = fake_mp4(2 * chunk + 12345)
    size = len(video)
    init = client.init_video(
        tokens["access_token"],
        inbox=True,
        post_info=None,
        source_info={
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": 2,
        },
    )
    assert init.upload_url

    first = client.upload_chunk(
        init.upload_url, video[:chunk], first=0, last=chunk - 1, total=size, content_type="video/mp4"
    )
    # Out of order: TikTok answers 416 with the progress it has.
    wrong = client.upload_chunk(
        init.upload_url, b"x" * 10, first=chunk + 5, last=chunk + 14, total=size, content_type="video/mp4"
    )
    last = client.upload_chunk(
        init.upload_url,
        iter([video[chunk:]]),
        first=chunk,
        last=size - 1,
        total=size,
        content_type="video/mp4",
    )

    assert (first.status_code, first.received_last) == (206, chunk - 1)
    assert wrong.status_code == 416
    assert wrong.received_last == chunk - 1
    assert (last.status_code, last.received_last) == (201, size - 1)
    assert emulator.received_bytes(init.publish_id) == video
    status = emulator.wait_for(lambda: _terminal(client, tokens["access_token"], init.publish_id))
    assert status.status == "SEND_TO_USER_INBOX"


def test_public_post_ids_are_exact_int64_strings(emulator: EmulatorHandle) -> None:
    emulator.configure(processing_delay=0, audited=True)
    tokens = emulator.connect("creator_public")
    client = make_client(emulator)
    video = fake_mp4(600_000)
    init = client.init_video(
        tokens["access_token"],
        inbox=False,
        post_info={"privacy_level": "PUBLIC_TO_EVERYONE", "title": "public"},
        source_info=upload_source(len(video)),
    )
    assert init.upload_url
    client.upload_chunk(
        init.upload_url, video, first=0, last=len(video) - 1, total=len(video), content_type="video/mp4"
    )

    status = emulator.wait_for(
        lambda: (s := client.fetch_status(tokens["access_token"], init.publish_id)).post_ids and s
    )

    expected = [str(n) for n in emulator.post(init.publish_id)["publicaly_available_post_id"]]
    assert status.post_ids == expected
    assert int(expected[0]) > 2**53  # beyond float precision: a float parse would have changed it


def test_photo_init_refuses_unverified_urls(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")
    body = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": ["https://unverified.example/a.jpg"],
            "photo_cover_index": 0,
        },
    }

    with pytest.raises(TikTokError) as caught:
        make_client(emulator).init_photo(tokens["access_token"], body=body)

    assert caught.value.code == "url_ownership_unverified"
    assert caught.value.http_status == 403


def test_status_of_unknown_publish_id(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")

    with pytest.raises(TikTokError) as caught:
        make_client(emulator).fetch_status(tokens["access_token"], "v_pub_file~v2-1.0000")

    assert caught.value.code in {"invalid_publish_id", "token_not_authorized_for_specified_publish_id"}
    assert caught.value.http_status == 400


def test_cancel_of_an_upload_task_is_refused_in_tiktok_shape(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")
    client = make_client(emulator)
    init = client.init_video(
        tokens["access_token"], inbox=True, post_info=None, source_info=upload_source(600_000)
    )

    # Only PULL_FROM_URL downloads can be cancelled; a FILE_UPLOAD task answers invalid_params.
    with pytest.raises(TikTokError) as caught:
        client.cancel(tokens["access_token"], init.publish_id)

    assert (caught.value.code, caught.value.http_status) == ("invalid_params", 400)
    assert caught.value.log_id


# ------------------------------------------------------------------ failures and retries


def test_5xx_on_user_info_is_retried(emulator: EmulatorHandle, session: CountingSession) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("user_info", "5xx", count=2, status=503)

    user = make_client(emulator, session).user_info(tokens["access_token"], ["open_id"])

    assert user.open_id == tokens["open_id"]
    assert session.sent["/v2/user/info/"] == 3


def test_retries_are_bounded(emulator: EmulatorHandle, session: CountingSession) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("creator_info", "5xx", count=10, status=500)

    with pytest.raises(TikTokError) as caught:
        make_client(emulator, session, retries=2).creator_info(tokens["access_token"])

    assert caught.value.code == "internal_error"
    assert caught.value.http_status == 500
    assert caught.value.is_retryable
    assert session.sent["/v2/post/publish/creator_info/query/"] == 3


def test_429_on_status_is_retried(emulator: EmulatorHandle, session: CountingSession) -> None:
    tokens = emulator.connect("creator_private")
    client = make_client(emulator, session)
    init = client.init_video(
        tokens["access_token"], inbox=True, post_info=None, source_info=upload_source(600_000)
    )
    emulator.fault("status", "429")

    status = client.fetch_status(tokens["access_token"], init.publish_id)

    assert status.status == "PROCESSING_UPLOAD"
    assert session.sent["/v2/post/publish/status/fetch/"] == 2


def test_200_with_internal_error_on_creator_info_is_retried(
    emulator: EmulatorHandle, session: CountingSession
) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("creator_info", "error200", code="internal_error")

    info = make_client(emulator, session).creator_info(tokens["access_token"])

    assert info.privacy_level_options
    assert session.sent["/v2/post/publish/creator_info/query/"] == 2


def test_200_with_quota_error_is_raised_not_retried(
    emulator: EmulatorHandle, session: CountingSession
) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("creator_info", "error200", code="spam_risk_too_many_posts", message="too many posts")

    with pytest.raises(TikTokError) as caught:
        make_client(emulator, session).creator_info(tokens["access_token"])

    assert (caught.value.code, caught.value.http_status) == ("spam_risk_too_many_posts", 200)
    assert caught.value.log_id
    assert session.sent["/v2/post/publish/creator_info/query/"] == 1


def test_init_is_never_retried(emulator: EmulatorHandle, session: CountingSession) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("inbox_init", "5xx", status=502)

    with pytest.raises(TikTokError) as caught:
        make_client(emulator, session).init_video(
            tokens["access_token"], inbox=True, post_info=None, source_info=upload_source(600_000)
        )

    assert caught.value.http_status == 502
    assert caught.value.is_retryable
    assert session.sent["/v2/post/publish/inbox/video/init/"] == 1


def test_init_timeout_is_a_transport_error_and_not_retried(
    emulator: EmulatorHandle, session: CountingSession
) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("video_init", "slow", delay_ms=1500)
    client = make_client(emulator, session, timeout=(2, 0.3))

    with pytest.raises(TikTokTransportError) as caught:
        client.init_video(
            tokens["access_token"],
            inbox=False,
            post_info={"privacy_level": "SELF_ONLY"},
            source_info=upload_source(600_000),
        )

    assert caught.value.code == "transport"
    assert "timed out" in str(caught.value)
    assert session.sent["/v2/post/publish/video/init/"] == 1
    # Why init must not be retried: the slow call went on to create the task anyway.
    emulator.wait_for(lambda: len(emulator.state()["posts"]) == 1, timeout=10)


def test_timeout_on_user_info_is_retried(emulator: EmulatorHandle, session: CountingSession) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("user_info", "slow", delay_ms=1500)

    user = make_client(emulator, session, timeout=(2, 0.3)).user_info(tokens["access_token"], ["open_id"])

    assert user.open_id == tokens["open_id"]
    assert session.sent["/v2/user/info/"] == 2


def test_connection_reset_is_a_transport_error(emulator: EmulatorHandle, session: CountingSession) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("status", "reset", count=3)

    with pytest.raises(TikTokTransportError) as caught:
        make_client(emulator, session).fetch_status(tokens["access_token"], "v_pub_file~v2-1.1")

    assert caught.value.code == "transport"
    assert tokens["access_token"] not in str(caught.value)
    assert session.sent["/v2/post/publish/status/fetch/"] == 3


def test_token_exchange_is_never_retried(emulator: EmulatorHandle, session: CountingSession) -> None:
    code, verifier, redirect_uri = authorize_code(emulator)
    emulator.fault("token", "5xx", status=503)

    with pytest.raises(OAuthError) as caught:
        make_client(emulator, session).exchange_code(code, redirect_uri, verifier)

    assert caught.value.code == "server_error"
    assert caught.value.http_status == 503
    assert session.sent["/v2/oauth/token/"] == 1


def test_refresh_is_not_retried_once_the_request_may_have_run(
    emulator: EmulatorHandle, session: CountingSession
) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("token", "reset")

    with pytest.raises(TikTokTransportError):
        make_client(emulator, session).refresh(tokens["refresh_token"])

    assert session.sent["/v2/oauth/token/"] == 1


def test_refresh_is_retried_when_the_connection_never_opened(session: CountingSession) -> None:
    dead = _closed_port_url()
    client = TikTokClient(dead, client_key="k", client_secret="s", session=session, sleep=lambda _s: None)

    with pytest.raises(TikTokTransportError) as caught:
        client.refresh("rft.never-sent")

    assert "rft.never-sent" not in str(caught.value)
    assert session.sent["/v2/oauth/token/"] == 3


def test_exchange_is_not_retried_even_when_the_connection_never_opened(session: CountingSession) -> None:
    client = TikTokClient(_closed_port_url(), client_key="k", client_secret="s", session=session)

    with pytest.raises(TikTokTransportError):
        client.exchange_code("code-value", "https://cb.example/", None)

    assert session.sent["/v2/oauth/token/"] == 1


def test_refresh_200_with_error_is_an_oauth_error(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")
    emulator.fault("token", "error200", code="invalid_grant", message="refresh token expired")

    with pytest.raises(OAuthError) as caught:
        make_client(emulator).refresh(tokens["refresh_token"])

    assert (caught.value.code, caught.value.http_status) == ("invalid_grant", 200)


def test_chunk_5xx_is_reported_for_the_caller_to_retry(
    emulator: EmulatorHandle, session: CountingSession
) -> None:
    tokens = emulator.connect("creator_private")
    client = make_client(emulator, session)
    video = fake_mp4(600_000)
    init = client.init_video(
        tokens["access_token"], inbox=True, post_info=None, source_info=upload_source(len(video))
    )
    assert init.upload_url
    emulator.fault("chunk", "5xx", status=503)

    failed = client.upload_chunk(
        init.upload_url, video, first=0, last=len(video) - 1, total=len(video), content_type="video/mp4"
    )
    again = client.upload_chunk(
        init.upload_url, video, first=0, last=len(video) - 1, total=len(video), content_type="video/mp4"
    )

    assert failed.status_code == 503
    assert not failed.complete
    assert again.status_code == 201
    assert sum(n for path, n in session.sent.items() if path.startswith("/upload")) == 2


def test_chunk_body_shorter_than_its_range_is_refused(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_private")
    client = make_client(emulator)
    init = client.init_video(
        tokens["access_token"], inbox=True, post_info=None, source_info=upload_source(600_000)
    )
    assert init.upload_url

    with pytest.raises(ValueError, match="length"):
        client.upload_chunk(
            init.upload_url, b"short", first=0, last=599_999, total=600_000, content_type="video/mp4"
        )
    with pytest.raises((ValueError, TikTokTransportError)):
        client.upload_chunk(
            init.upload_url, iter([b"short"]), first=0, last=599_999, total=600_000, content_type="video/mp4"
        )


# ------------------------------------------------------------------ garbage bodies (tiny local server)


class _GarbageHandler(http.server.BaseHTTPRequestHandler):
    body = b"<html><body>Service Temporarily Unavailable</body></html>"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("x-tt-logid", "GARBAGELOG")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GarbageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_garbage_body_on_a_read_is_retried_then_a_bad_response(
    garbage_server: str, session: CountingSession
) -> None:
    client = TikTokClient(
        garbage_server, client_key="k", client_secret="s", session=session, sleep=lambda _s: None
    )

    with pytest.raises(TikTokTransportError) as caught:
        client.user_info("act.secret-token", ["open_id"])

    assert caught.value.code == "bad_response"
    assert caught.value.log_id == "GARBAGELOG"
    assert "act.secret-token" not in str(caught.value)
    assert session.sent["/v2/user/info/"] == 3


def test_garbage_body_on_token_exchange_is_a_bad_response_once(
    garbage_server: str, session: CountingSession
) -> None:
    client = TikTokClient(garbage_server, client_key="k", client_secret="s", session=session)

    with pytest.raises(TikTokTransportError) as caught:
        client.exchange_code("the-code", "https://cb.example/", "verifier")

    assert caught.value.code == "bad_response"
    assert session.sent["/v2/oauth/token/"] == 1


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
