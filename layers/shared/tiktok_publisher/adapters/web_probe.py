"""HTTP GETs the way TikTok makes them when it pulls media: no redirect followed, a bounded read."""

from __future__ import annotations

import re
from collections.abc import Mapping

import requests

from tiktok_publisher.domain.deployment import WebAnswer

MAX_BODY_BYTES = 1024 * 1024


class RequestsWebProbe:
    def __init__(self, *, timeout: tuple[float, float] = (5.0, 20.0)) -> None:
        self.timeout = timeout
        self.http = requests.Session()

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> WebAnswer:
        try:
            with self.http.get(
                url, headers=dict(headers or {}), allow_redirects=False, timeout=self.timeout, stream=True
            ) as answer:
                body = answer.raw.read(MAX_BODY_BYTES, decode_content=True) or b""
                return WebAnswer(
                    url=url,
                    status=answer.status_code,
                    headers={k.lower(): v for k, v in answer.headers.items()},
                    body=body,
                )
        except requests.RequestException as exc:
            return WebAnswer(url=url, error=f"{type(exc).__name__}: {_reason(str(exc))}")


_MARKERS = (
    "Connection refused",
    "Name or service not known",
    "nodename nor servname",
    "No address associated",
    "timed out",
    "CERTIFICATE_VERIFY_FAILED",
    "Connection reset",
)


def _reason(text: str) -> str:
    """The innermost reason of a failed request, never the URL's query (it may hold a signature)."""
    for marker in _MARKERS:
        if marker in text:
            return marker
    return re.sub(r"\?[^\s'\")]*", "", text)[:160]
