"""The HTTP API on the laptop: routes from the template, the Lambda authorizer, payload format 2.0.

Requests become the events API Gateway would send (`events.http_api_event`), routes with auth run the
REQUEST authorizer first, and handler results map back to HTTP as API Gateway maps them. Paths under
/_local/ are the stack's admin endpoints (never part of the template's API).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import unquote

from . import events
from .template import Authorizer, Route

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
ADMIN_PREFIX = "/_local/"


class StackPort(Protocol):
    """What the gateway needs from the stack."""

    def invoke(self, function: str, event: Any) -> Any: ...  # returns functions.InvocationResult

    def admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class CompiledRoute:
    """A route with its path matcher and its precedence."""

    route: Route
    pattern: re.Pattern[str]
    rank: tuple[int, int, int, int]


def compile_routes(routes: list[Route]) -> list[CompiledRoute]:
    """Routes in API Gateway's order of precedence: exact paths, then fewer variables, greedy last."""
    compiled = []
    for route in routes:
        regex, variables, greedy = "", 0, 0
        for segment in route.path.strip("/").split("/") if route.path != "/" else []:
            match = re.fullmatch(r"\{([A-Za-z0-9_.-]+)(\+?)\}", segment)
            if match and match.group(2):
                regex += f"/(?P<{_group(match.group(1))}>.+)"
                greedy += 1
            elif match:
                regex += f"/(?P<{_group(match.group(1))}>[^/]+)"
                variables += 1
            else:
                regex += "/" + re.escape(segment)
        pattern = re.compile("^" + (regex or "/") + "$")
        literal = route.path.count("/") - variables - greedy
        rank = (greedy, variables, -literal, 1 if route.method == "ANY" else 0)
        compiled.append(CompiledRoute(route, pattern, rank))
    return sorted(compiled, key=lambda c: c.rank)


def _group(name: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9_]", lambda m: f"_{ord(m.group()):x}_", name)


def _param_name(group: str) -> str:
    return re.sub(r"_([0-9a-f]+)_", lambda m: chr(int(m.group(1), 16)), group[2:])


def match_route(routes: list[CompiledRoute], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for `method path`, with its path parameters."""
    for compiled in routes:
        if compiled.route.method not in (method, "ANY"):
            continue
        found = compiled.pattern.match(path)
        if found:
            params = {_param_name(k): unquote(v) for k, v in found.groupdict().items()}
            return compiled.route, params
    return None


def lambda_result_to_http(payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Map a handler's result to status, headers and body as HTTP API payload 2.0 does."""
    if isinstance(payload, dict) and "statusCode" in payload:
        status = int(payload["statusCode"])
        headers = [(str(k), str(v)) for k, v in (payload.get("headers") or {}).items()]
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("Set-Cookie", str(c)) for c in payload.get("cookies") or [])
        body = payload.get("body")
        if body is None:
            raw = b""
        elif payload.get("isBase64Encoded"):
            raw = base64.b64decode(body)
        else:
            raw = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        return status, headers, raw
    # No statusCode: API Gateway assumes 200 and a JSON body (a string result is the body itself).
    raw = (payload if isinstance(payload, str) else json.dumps(payload)).encode("utf-8")
    return 200, [("Content-Type", "application/json")], raw


def _message(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()


class Gateway:
    """Routes requests to handler invocations (thread-safe; one instance per stack)."""

    def __init__(
        self,
        stack: StackPort,
        routes: list[Route],
        authorizers: dict[str, Authorizer],
        cors: dict[str, Any] | None,
        api_id: str,
        quiet: bool = False,
    ) -> None:
        self.stack = stack
        self.routes = compile_routes(routes)
        self.authorizers = authorizers
        self.cors = cors
        self.api_id = api_id
        self.quiet = quiet
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def configure(
        self,
        routes: list[Route],
        authorizers: dict[str, Authorizer],
        cors: dict[str, Any] | None,
        api_id: str,
    ) -> None:
        """Set what the template declares (the socket may be bound before the template is read)."""
        self.routes = compile_routes(routes)
        self.authorizers = authorizers
        self.cors = cors
        self.api_id = api_id

    # ------------------------------------------------------------------ server lifecycle
    def bind(self, host: str, port: int) -> int:
        """Bind the listening socket (port 0 picks a free one) and return the port."""
        gateway = self

        class Handler(_RequestHandler):
            pass

        Handler.gateway = gateway
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Serve requests in a background thread."""
        assert self.server is not None
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self.server is not None:
            if self._thread is not None:
                self.server.shutdown()
                self._thread.join(timeout=5)
            self.server.server_close()

    # ------------------------------------------------------------------ request handling
    def handle(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One HTTP request to (status, headers, body), the way API Gateway answers it."""
        req_id = events.request_id()
        origin = next((v for k, v in headers if k.lower() == "origin"), None)
        lowered = {k.lower(): v for k, v in headers}
        if method == "OPTIONS" and self.cors and origin and "access-control-request-method" in lowered:
            return 204, self._preflight_headers(origin), b""
        status, out_headers, out_body = self._route(
            method, raw_path, raw_query, headers, body, source_ip, req_id
        )
        out_headers.append(("apigw-requestid", req_id))
        if self.cors and origin and self._origin_allowed(origin):
            out_headers = [h for h in out_headers if not h[0].lower().startswith("access-control-")]
            out_headers.append(("Access-Control-Allow-Origin", origin))
            if self.cors.get("ExposeHeaders"):
                out_headers.append(("Access-Control-Expose-Headers", ",".join(self.cors["ExposeHeaders"])))
            if self.cors.get("AllowCredentials"):
                out_headers.append(("Access-Control-Allow-Credentials", "true"))
        return status, out_headers, out_body

    def _route(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        req_id: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        found = match_route(self.routes, method, raw_path)
        if found is None:
            return _message(404, "Not Found")
        route, path_params = found
        host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
        forwarded = [
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Port", host.rsplit(":", 1)[-1] if ":" in host else "80"),
            ("X-Forwarded-Proto", "http"),
            ("X-Amzn-Trace-Id", f"Root=1-{req_id[:8].encode().hex()}-{req_id.encode().hex()[:24]}"),
        ]
        event = events.http_api_event(
            method=method,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=[*headers, *forwarded],
            body=body,
            route_key=route.route_key,
            path_parameters=path_params or None,
            source_ip=source_ip,
            domain_name=host,
            api_id=self.api_id,
            req_id=req_id,
        )
        if route.authorizer is not None:
            denied = self._authorize(route.authorizer, event)
            if denied is not None:
                return denied
        result = self.stack.invoke(route.function, event)
        if not result.ok:
            error = result.error or {}
            self._log(f"{route.function} failed: {error.get('errorType')}: {error.get('errorMessage')}")
            return _message(500, "Internal Server Error")
        try:
            return lambda_result_to_http(result.payload)
        except (TypeError, ValueError, KeyError) as exc:
            self._log(f"{route.function} returned a malformed response: {exc}")
            return _message(500, "Internal Server Error")

    def _authorize(self, name: str, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """Run the Lambda authorizer; None when the request may proceed (its context then set)."""
        authorizer = self.authorizers[name]
        identity = [event["headers"].get(h.lower(), "") for h in authorizer.identity_headers]
        if any(not value for value in identity):
            return _message(401, "Unauthorized")
        result = self.stack.invoke(authorizer.function, events.authorizer_event(event, identity, self.api_id))
        if not result.ok:
            self._log(
                f"authorizer failed: {result.error.get('errorType')}: {result.error.get('errorMessage')}"
            )
            return _message(500, "Internal Server Error")
        payload = result.payload
        if not isinstance(payload, dict):
            return _message(500, "Internal Server Error")
        if authorizer.simple_responses and "isAuthorized" in payload:
            allowed = payload["isAuthorized"] is True
        elif "policyDocument" in payload:
            effects = [s.get("Effect") for s in payload["policyDocument"].get("Statement", [])]
            allowed = "Allow" in effects and "Deny" not in effects
        else:
            return _message(500, "Internal Server Error")
        if not allowed:
            return _message(403, "Forbidden")
        context = payload.get("context") or {}
        authorizer_ctx: dict[str, Any] = {"lambda": context}
        if "principalId" in payload:
            authorizer_ctx["principalId"] = payload["principalId"]
        event["requestContext"]["authorizer"] = authorizer_ctx
        return None

    def _origin_allowed(self, origin: str) -> bool:
        allowed = (self.cors or {}).get("AllowOrigins") or []
        return "*" in allowed or origin in allowed

    def _preflight_headers(self, origin: str) -> list[tuple[str, str]]:
        if not self._origin_allowed(origin):
            return []
        assert self.cors is not None
        headers = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ",".join(self.cors.get("AllowMethods") or ["*"])),
            ("Access-Control-Allow-Headers", ",".join(self.cors.get("AllowHeaders") or ["*"])),
        ]
        if self.cors.get("MaxAge") is not None:
            headers.append(("Access-Control-Max-Age", str(self.cors["MaxAge"])))
        return headers

    def _log(self, line: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[gateway] {line}\n")


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    server_version = "local-http-api"

    def log_message(self, format: str, *args: Any) -> None:
        if not self.gateway.quiet:
            sys.stderr.write(f"[gateway] {self.address_string()} {format % args}\n")

    def _read_body(self) -> bytes | None:
        """The request body, or None when it exceeds API Gateway's limit."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._send(*_message(413, "Request Entity Too Large"))
            return
        path, _, query = self.path.partition("?")
        if path.startswith(ADMIN_PREFIX):
            status, payload = self.gateway.stack.admin(self.command, path, body)
            self._send(
                status, [("Content-Type", "application/json")], json.dumps(payload, default=str).encode()
            )
            return
        self._send(
            *self.gateway.handle(
                self.command, path, query, list(self.headers.items()), body, self.client_address[0]
            )
        )

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        skip = {"content-length", "transfer-encoding", "connection"}
        for name, value in headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...): API Gateway answers a method no route has with its JSON 404,
        # never http.server's bare 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)
