"""Helpers for the emulator conformance tests: an API client, a media origin, a webhook receiver."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

TIMEOUT = 10
MiB = 1024 * 1024


class Api:
    """A bare TikTok API client over real HTTP (deliberately not the product's client)."""

    def __init__(self, base_url: str, access_token: str) -> None:
        self.base_url = base_url
        self.access_token = access_token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return requests.post(
            f"{self.base_url}{path}", json=body if body is not None else {}, headers=self.headers, **kwargs
        )

    def user_info(self, fields: str) -> requests.Response:
        return requests.get(
            f"{self.base_url}/v2/user/info/", params={"fields": fields}, headers=self.headers, timeout=TIMEOUT
        )

    def creator_info(self) -> requests.Response:
        return self.post("/v2/post/publish/creator_info/query/")

    def init_direct(
        self, privacy: str = "SELF_ONLY", source: dict[str, Any] | None = None, **post_info: Any
    ) -> requests.Response:
        body = {
            "post_info": {"privacy_level": privacy, "title": "t", **post_info},
            "source_info": source or file_source(1000),
        }
        return self.post("/v2/post/publish/video/init/", body)

    def init_inbox(self, source: dict[str, Any] | None = None) -> requests.Response:
        return self.post("/v2/post/publish/inbox/video/init/", {"source_info": source or file_source(1000)})

    def status(self, publish_id: str) -> requests.Response:
        return self.post("/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    def cancel(self, publish_id: str) -> requests.Response:
        return self.post("/v2/post/publish/cancel/", {"publish_id": publish_id})


def file_source(video_size: int, chunk_size: int | None = None, count: int | None = None) -> dict[str, Any]:
    chunk = chunk_size if chunk_size is not None else video_size
    return {
        "source": "FILE_UPLOAD",
        "video_size": video_size,
        "chunk_size": chunk,
        "total_chunk_count": count if count is not None else max(1, video_size // chunk),
    }


def put_chunk(
    upload_url: str, data: bytes, first: int, total: int, content_type: str = "video/mp4", **headers: str
) -> requests.Response:
    all_headers = {
        "Content-Type": content_type,
        "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}",
        **headers,
    }
    return requests.put(upload_url, data=data, headers=all_headers, timeout=TIMEOUT)


def error_code(response: requests.Response) -> str:
    return str(response.json()["error"]["code"])


def upload_all(upload_url: str, data: bytes, chunk_size: int) -> list[requests.Response]:
    count = max(1, len(data) // chunk_size)
    responses = []
    for index in range(count):
        first = index * chunk_size
        last = len(data) if index == count - 1 else first + chunk_size
        responses.append(put_chunk(upload_url, data[first:last], first, len(data)))
    return responses


@pytest.fixture
def api(emulator: EmulatorHandle) -> Callable[..., Api]:
    """api(account="creator_private", scopes=None) -> Api with a freshly issued token."""

    def make(account: str = "creator_private", scopes: list[str] | None = None) -> Api:
        return Api(emulator.base_url, emulator.issue_token(account, scopes)["access_token"])

    return make


# --- a tiny origin server for PULL_FROM_URL -------------------------------------------------------
@dataclass
class Origin:
    base_url: str
    files: dict[str, bytes]
    redirects: dict[str, str]
    release: threading.Event
    hits: list[str] = field(default_factory=list)


def _origin_handler(origin: Origin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            origin.hits.append(self.path)
            if self.path in origin.redirects:
                self.send_response(302)
                self.send_header("Location", origin.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/slow/"):
                # First half, then wait (bounded) until the test releases the rest.
                data = origin.files[self.path.removeprefix("/slow")]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                origin.release.wait(10)
                with contextlib.suppress(OSError):
                    self.wfile.write(data[len(data) // 2 :])
                return
            data = origin.files.get(self.path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def origin() -> Iterator[Origin]:
    """An HTTP origin on 127.0.0.1:<ephemeral> serving test media (video, photos, redirects, slow)."""
    files = {
        "/video.mp4": fake_mp4(2 * MiB),
        "/notvideo.mp4": b"<html>not a video</html>" * 100,
        "/photo1.jpg": b"\xff\xd8\xff\xe0" + bytes(4000),
        "/photo2.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(4000),
        "/notphoto.jpg": b"GIF89a" + bytes(100),
    }
    state = Origin("", files, {}, threading.Event())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _origin_handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    state.redirects["/redirect.mp4"] = f"{state.base_url}/video.mp4"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


# --- a webhook receiver that verifies TikTok-Signature like our product must -----------------------
def verify_signature(secret: str, header: str, raw_body: bytes, now: float, tolerance: int = 300) -> bool:
    """The receiver-side check: t=..,s=.. with HMAC-SHA256(secret, t + "." + body), fresh t."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        signature = parts["s"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give first, then 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Records webhook POSTs; answers the queued statuses first, then 200."""
    state = Receiver("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.received.append((dict(self.headers.items()), body))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/webhooks/tiktok"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
