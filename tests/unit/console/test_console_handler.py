"""The console function: static files with the right types, caching, a strict CSP, and nothing else."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
CONSOLE_DIR = ROOT / "functions" / "console"
STATIC = CONSOLE_DIR / "static"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("console_app_under_test", CONSOLE_DIR / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


console = _load()


def get(path: str, headers: dict[str, str] | None = None) -> dict:
    event = {"version": "2.0", "rawPath": path, "rawQueryString": "", "headers": headers or {}}
    return console.lambda_handler(event, None)


def csp_directives(response: dict) -> dict[str, list[str]]:
    policy = response["headers"]["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_root_serves_the_console_page():
    response = get("/")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="js/app.js"></script>' in response["body"]
    assert response["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/index.html", "text/html; charset=utf-8"),
        ("/styles.css", "text/css; charset=utf-8"),
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/js/composer.js", "text/javascript; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ],
)
def test_each_asset_has_its_content_type(path, content_type):
    response = get(path)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == content_type
    assert response["body"] == (STATIC / path.lstrip("/")).read_text()


def test_every_static_file_is_served():
    files = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
    assert files, "no static files"
    for name in files:
        assert get(f"/{name}")["statusCode"] == 200, name


@pytest.mark.parametrize(
    "path",
    [
        "/app.py",
        "/../app.py",
        "/static/../app.py",
        "/js/../../app.py",
        "/%2e%2e/app.py",
        "/%2E%2E%2Fapp.py",
        "/..%2fapp.py",
        "/js/..%5c..%5capp.py",
        "/js\\..\\..\\app.py",
        "/index.html%00.js",
        "//etc/passwd",
        "/etc/passwd",
        "/js/",
        "/missing.js",
        "/.hidden",
    ],
)
def test_nothing_outside_the_static_files_is_reachable(path):
    response = get(path)
    assert response["statusCode"] == 404
    assert "lambda_handler" not in response["body"]
    assert "root:" not in response["body"]
    # Even a 404 carries the security headers.
    assert "default-src 'none'" in response["headers"]["Content-Security-Policy"]


def test_csp_allows_only_own_scripts_and_styles():
    directives = csp_directives(get("/"))
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    policy = get("/")["headers"]["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_csp_lets_the_page_upload_to_its_media_bucket_only(monkeypatch):
    monkeypatch.setenv("MEDIA_BUCKET", "media-bucket-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    connect = csp_directives(get("/"))["connect-src"]
    assert connect == [
        "'self'",
        "https://media-bucket-1.s3.amazonaws.com",
        "https://media-bucket-1.s3.eu-west-1.amazonaws.com",
        "https://s3.eu-west-1.amazonaws.com",
    ]


def test_csp_includes_the_local_s3_endpoint(monkeypatch):
    monkeypatch.setenv("MEDIA_BUCKET", "local-media")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")
    assert "http://127.0.0.1:4566" in csp_directives(get("/"))["connect-src"]


def test_security_headers_are_set():
    headers = get("/")["headers"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_files_are_revalidated_with_an_etag():
    first = get("/js/app.js")
    assert first["headers"]["Cache-Control"] == "no-cache"
    etag = first["headers"]["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = get("/js/app.js", {"If-None-Match": etag})
    assert again["statusCode"] == 304
    assert again["body"] == ""
    stale = get("/js/app.js", {"if-none-match": '"0000"'})
    assert stale["statusCode"] == 200


def test_page_has_no_inline_script_style_or_handlers():
    """The CSP forbids them; one would silently not run."""
    for path in [*STATIC.rglob("*.html")]:
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert "<style" not in html, path


def test_every_local_reference_exists():
    """index.html's src/href and every ES module import point at files that ship."""
    html = (STATIC / "index.html").read_text()
    for ref in re.findall(r'(?:src|href)="([^"#:]+)"', html):
        if ref.startswith("/legal/"):  # rendered by the handler, not a file
            assert get(ref)["statusCode"] in (200, 503), ref
            continue
        assert (STATIC / ref).is_file(), ref
    for module in (STATIC / "js").glob("*.js"):
        for ref in re.findall(r'from\s+"(\./[^"]+)"', module.read_text()):
            assert (module.parent / ref).resolve().is_file(), f"{module.name} imports {ref}"
