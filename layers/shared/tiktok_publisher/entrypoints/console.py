"""console: serves the reference publishing console (static files) and the legal pages under a strict CSP.

The files ship inside the console function's CodeUri (functions/console/static), so `sam build` packages them
with no build step. They are indexed once per container; a request can only ever name a file of that index,
so no path a caller sends reaches the filesystem (no traversal possible). Standard library only: the console
function's cold start is a few milliseconds.

/legal/privacy and /legal/terms are the privacy policy and terms of service TikTok's app review asks for,
filled from the template parameters (CompanyName, ContactEmail, ProductUrl, LegalEffectiveDate,
DataRetentionDays). An operator's own `privacy.html` / `terms.html` in functions/console/legal/ replaces the
packaged template (same ${placeholders}). Until the parameters are set, the pages answer 503 saying which.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tiktok_publisher.config import Settings, get_settings
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.legal.pages import PAGES, PageName, legal_params, packaged_template, render_page

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


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def index(root: Path) -> dict[str, tuple[bytes, str, str]]:
    """Every servable file under `root`: relative path -> (bytes, ETag, Content-Type)."""
    files: dict[str, tuple[bytes, str, str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in CONTENT_TYPES and not path.name.startswith("."):
            body = path.read_bytes()
            files[path.relative_to(root).as_posix()] = (body, _etag(body), CONTENT_TYPES[path.suffix])
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


LEGAL_ROUTES: dict[str, PageName] = {f"/legal/{page}": page for page in PAGES}


class LegalPages:
    """The deployment's legal pages, rendered once per container (the parameters are its environment)."""

    def __init__(
        self, overrides: Path | None = None, settings: Callable[[], Settings] = get_settings
    ) -> None:
        self.overrides = overrides
        self.settings = settings
        self._rendered: dict[str, tuple[int, bytes]] = {}

    def template(self, page: PageName) -> str:
        """The operator's own file for `page` when there is one, else the packaged template."""
        own = self.overrides / f"{page}.html" if self.overrides else None
        return own.read_text(encoding="utf-8") if own and own.is_file() else packaged_template(page)

    def page(self, page: PageName) -> tuple[int, bytes]:
        """(status, HTML): 200 with the page, or 503 with what the operator must set."""
        if page not in self._rendered:
            self._rendered[page] = self._render(page)
        return self._rendered[page]

    def _render(self, page: PageName) -> tuple[int, bytes]:
        s = self.settings()
        try:
            params = legal_params(
                company_name=s.company_name,
                contact_email=s.contact_email,
                product_url=s.product_url,
                effective_date=s.legal_effective_date,
                data_retention_days=s.post_retention_days,
                log_retention_days=s.log_retention_days,
                scopes=DEFAULT_SCOPES,
            )
            return 200, render_page(self.template(page), params).encode("utf-8")
        except ValueError as exc:
            return 503, _not_configured(str(exc).removeprefix("legal page parameters: ").split("; "))
        except KeyError as exc:
            return 503, _not_configured([f"{page}.html names an unknown placeholder ${{{exc.args[0]}}}"])


def _not_configured(problems: list[str]) -> bytes:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not configured</title>'
        '<link rel="stylesheet" href="/legal.css"></head><body><main class="legal">'
        "<h1>This page is not configured yet</h1><p>The operator of this service still has to set:</p>"
        f"<ul>{items}</ul><p>See docs/go-live.md, step 1.</p></main></body></html>"
    ).encode()


class StaticSite:
    """The console's files, indexed once, and the legal pages; `handle` is the Lambda handler (API Gateway
    payload 2.0)."""

    def __init__(self, root: Path, *, legal: LegalPages | None = None) -> None:
        self.files = index(root)
        self.legal = legal or LegalPages()

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
        raw_path = event.get("rawPath", "/")
        legal = LEGAL_ROUTES.get(raw_path.rstrip("/") or "/")
        if legal is not None:
            status, page = self.legal.page(legal)
            if status != 200:
                return {
                    "statusCode": status,
                    "headers": _headers(CONTENT_TYPES[".html"]),
                    "body": page.decode(),
                }
            return self._answer(event, page, _etag(page), CONTENT_TYPES[".html"], "legal.html")
        key = self.lookup(raw_path)
        if key is None:
            return {
                "statusCode": 404,
                "headers": _headers("text/plain; charset=utf-8"),
                "body": "Not found\n",
            }
        body, etag, content_type = self.files[key]
        return self._answer(event, body, etag, content_type, key)

    @staticmethod
    def _answer(event: dict[str, Any], body: bytes, etag: str, content_type: str, key: str) -> dict[str, Any]:
        headers = _headers(content_type) | {"ETag": etag}
        request_headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if etag in request_headers.get("if-none-match", ""):
            return {"statusCode": 304, "headers": headers, "body": ""}
        text = key.endswith(_TEXT)
        encoded = body.decode("utf-8") if text else base64.b64encode(body).decode()
        return {"statusCode": 200, "headers": headers, "body": encoded, "isBase64Encoded": not text}
