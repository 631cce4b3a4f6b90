"""PULL_FROM_URL: who may be pulled from (verified prefixes), and the background download to disk."""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlsplit

import requests

from .state import Post

if TYPE_CHECKING:
    from .emulator import Emulator

_PIECE = 1 << 20
MAX_PULL_BYTES = {"video": 4 * 1024**3, "photo": 20 * 1024 * 1024}


def is_loopback(host: str) -> bool:
    """localhost or an address in 127.0.0.0/8 (or ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def _path_under(path: str, prefix_path: str) -> bool:
    """`path` is `prefix_path` or below it, on segment boundaries ("/media" covers "/media/x" only)."""
    if not prefix_path or prefix_path == "/":
        return True
    if prefix_path.endswith("/"):
        return path.startswith(prefix_path)
    return path == prefix_path or path.startswith(prefix_path + "/")


def url_verified(url: str, prefixes: list[str], allow_http_loopback: bool) -> bool:
    """https (or http on loopback for local use) and under a verified URL prefix or domain.

    An entry with a scheme ("https://cdn.example.com/media/") is a URL prefix: same scheme, host and port,
    and a path at or below the prefix's (query strings, such as a presigned URL's signature, do not
    matter). A bare entry ("example.com") is a domain and covers its subdomains. URLs with credentials
    or dot segments ("/media/../secret") are never verified.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_http_loopback and is_loopback(host)):
        return False
    segments = unquote(parts.path).split("/")
    if "." in segments or ".." in segments:
        return False
    for entry in prefixes:
        if "://" in entry:
            prefix = urlsplit(entry)
            if (
                prefix.scheme == parts.scheme
                and (prefix.hostname or "").lower() == host
                and _port(prefix) == _port(parts)
                and _path_under(parts.path, prefix.path)
            ):
                return True
        else:
            domain = entry.lower().strip(".")
            if host == domain or host.endswith("." + domain):
                return True
    return False


def start_pull(emu: Emulator, post: Post, urls: list[str]) -> None:
    """Download in a background thread; the post's status follows."""
    thread = threading.Thread(
        target=_pull, args=(emu, post, urls), name=f"pull-{post.publish_id}", daemon=True
    )
    thread.start()


def _pull(emu: Emulator, post: Post, urls: list[str]) -> None:
    reason = "video_pull_failed" if post.media == "video" else "photo_pull_failed"
    hasher = hashlib.sha256()
    try:
        for index, url in enumerate(urls):
            path = emu.media_path(f"{post.publish_id.replace('~', '_')}.{index}")
            if not _download(emu, post, url, path, hasher):
                if not post.cancel.is_set():
                    emu.fail_post(post, reason)
                return
            with emu.store.lock:
                post.files.append(path)
    except (requests.RequestException, OSError):
        emu.fail_post(post, reason)
        return
    with emu.store.lock:
        if post.terminal:
            return
        post.sha256 = hasher.hexdigest() if post.media == "video" else None
        post.transfer_done_at = emu.clock.now()


def _download(emu: Emulator, post: Post, url: str, path: str, hasher: hashlib._Hash) -> bool:
    limit = MAX_PULL_BYTES[post.media]
    timeout = emu.config.pull_timeout
    # No redirects: TikTok only pulls from the verified URL itself.
    with requests.get(url, stream=True, allow_redirects=False, timeout=(timeout, timeout)) as response:
        if response.status_code != 200:
            return False
        with open(path, "wb") as fh:
            for piece in response.iter_content(_PIECE):
                if post.cancel.is_set():
                    return False
                fh.write(piece)
                hasher.update(piece)
                with emu.store.lock:
                    post.downloaded_bytes += len(piece)
                    if post.downloaded_bytes > limit:
                        return False
    return True
