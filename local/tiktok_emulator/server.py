"""Serving the app with werkzeug's threaded server, in the foreground (CLI) or a thread (tests)."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .emulator import Emulator


class _LoggingHandler(WSGIRequestHandler):
    """Request log without query strings: upload URLs and redirects carry secrets there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(self.path).path
        self.log("info", '"%s %s" %s', self.command, path, code)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log_error(self, format: str, *args: object) -> None:
        return


class EmulatorServer:
    """A running HTTP server for one emulator."""

    def __init__(self, emu: Emulator, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> None:
        self.emulator = emu
        handler = _QuietHandler if quiet else _LoggingHandler
        self._server: BaseWSGIServer = make_server(
            host, port, create_app(emu), threaded=True, request_handler=handler
        )
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """http://host:port with the real (possibly ephemeral) port."""
        return f"http://{self._server.host}:{self._server.port}"

    def serve_forever(self) -> None:
        """Block serving requests (CLI)."""
        self.emulator.start()
        try:
            self._server.serve_forever()
        finally:
            self.emulator.stop()

    def start(self) -> None:
        """Serve from a daemon thread (tests)."""
        self.emulator.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tiktok-emulator", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and stop the emulator's background work."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.emulator.stop()
