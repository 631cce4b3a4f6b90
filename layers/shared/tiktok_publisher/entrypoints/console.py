"""console: serves the reference publishing console (static files) under a strict CSP.

The files ship inside the console function's CodeUri (functions/console/static), so `sam build` packages them
with no build step. They are indexed once per container; a request can only ever name a file of that index,
so no path a caller sends reaches the filesystem (no traversal possible). Standard library only: the console
function's cold start is a few milliseconds.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
_TEXT = (".html", ".js", ".css", ".svg", ".json", ".webmanifest", ".txt")


def index(root: Path) -> dict[str, tuple[bytes, str, str]]:
    """Every servable file under `root`: relative path -> (bytes, ETag, Content-Type)."""
    files: dict[str, tuple[bytes, str, str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in CONTENT_TYPES and not path.name.startswith("."):
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            files[path.relative_to(root).as_posix()] = (body, etag, CONTENT_TYPES[path.suffix])
    return files


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def content_security_policy(env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The page may talk to its own API and to the media bucket (presigned PUTs), and to nothing else."""
    connect = ["'self'"]
    bucket, region = env.get("MEDIA_BUCKET"), env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if bucket:
        connect.append(f"https://{bucket}.s3.amazonaws.com")
        if region:
            connect += [f"https://{bucket}.s3.{region}.amazonaws.com", f"https://s3.{region}.amazonaws.com"]
    else:
        connect.append("https://*.amazonaws.com")
    endpoint = _origin(env.get("AWS_ENDPOINT_URL", ""))  # local stack: S3 is moto's server
    if endpoint:
        connect.append(endpoint)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob: https:",  # creator avatars come from TikTok's CDN hosts
            "media-src 'self' blob:",  # local previews of the chosen video
            f"connect-src {' '.join(connect)}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


def _headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        # Files are not fingerprinted: always revalidate (cheap, thanks to the ETag) so a deploy never mixes
        # old and new modules.
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    }


class StaticSite:
    """The console's files, indexed once; `handle` is the Lambda handler (API Gateway payload 2.0)."""

    def __init__(self, root: Path) -> None:
        self.files = index(root)

    def lookup(self, raw_path: str) -> str | None:
        """The index key a request path names, or None. `/` and any `dir/` mean that folder's index.html."""
        path = unquote(raw_path or "/")
        if "\x00" in path or "\\" in path:
            return None
        key = path.lstrip("/")
        if key == "" or key.endswith("/"):
            key += "index.html"
        return key if key in self.files else None

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """GET / and GET /{proxy+}."""
        key = self.lookup(event.get("rawPath", "/"))
        if key is None:
            return {
                "statusCode": 404,
                "headers": _headers("text/plain; charset=utf-8"),
                "body": "Not found\n",
            }
        body, etag, content_type = self.files[key]
        headers = _headers(content_type) | {"ETag": etag}
        request_headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if etag in request_headers.get("if-none-match", ""):
            return {"statusCode": 304, "headers": headers, "body": ""}
        text = key.endswith(_TEXT)
        encoded = body.decode("utf-8") if text else base64.b64encode(body).decode()
        return {"statusCode": 200, "headers": headers, "body": encoded, "isBase64Encoded": not text}
