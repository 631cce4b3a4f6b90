"""Connect integration fixtures: moto + the emulator (tiktok_env), an allow-list with the test app's origin,
and fresh ports for every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.connect.harness import ALLOWED_ORIGINS, Harness


@pytest.fixture
def connect_env(tiktok_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """tiktok_env with RETURN_TO_ALLOWED_ORIGINS set for the tests' return_to; ports rebuilt per test."""
    from tiktok_publisher import config
    from tiktok_publisher.bootstrap import reset as reset_ports

    monkeypatch.setenv("RETURN_TO_ALLOWED_ORIGINS", ALLOWED_ORIGINS)
    config.reset_caches()
    reset_ports()
    yield tiktok_env
    reset_ports()


@pytest.fixture
def harness(connect_env: Any) -> Harness:
    """Calls the functions in-process; records every answer."""
    return Harness()


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A local HTTP server answering every POST with an HTML error page (a proxy in TikTok's place)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
