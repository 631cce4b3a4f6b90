"""PULL_FROM_URL: help verify a URL prefix (or a domain) at TikTok, and check that TikTok can pull from it.

TikTok verifies a URL prefix with a file it gives you, placed under that prefix, or a domain with a DNS TXT
record; it then pulls media only over https, follows no redirect, and may take up to an hour to download
(TIKTOK-API.md §6). This module places the file in the media bucket (which is also the CloudFront origin)
under the prefix, then checks a test object through the very URLs the worker would give TikTok: https, no
redirect, ranged GETs, the right Content-Type, and a URL that stays valid for the hour. Logic only: the
bucket, the URL signer and HTTP are ports.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tiktok_publisher.golive.findings import Finding, OperatorError
from tiktok_publisher.ports import MediaObjects, PullUrls, UrlProperties, WebProbe

PULL_WINDOW_SECONDS = 3600  # TikTok may take up to an hour to download a pulled file
PROBE_CONTENT_TYPE = "video/mp4"
PROBE_RANGE = (0, 1023)
# An ISO BMFF file type box, then filler: enough bytes for a ranged GET to mean something.
PROBE_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 256
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_prefix(prefix: str, *, local: bool) -> str:
    """The prefix as TikTok matches it (ending in "/"); OperatorError for one TikTok would never pull from."""
    parts = urlsplit(prefix.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OperatorError(f"{prefix!r} is not a URL prefix like https://media.example.com/tiktok/")
    if parts.query or parts.fragment:
        raise OperatorError(f"{prefix}: a URL prefix has no query string or fragment")
    if parts.scheme == "http" and not (local and _loopback(parts.hostname)):
        raise OperatorError(
            f"{prefix} is plain http: TikTok pulls only over https (http is accepted only on loopback with "
            "--local, against the local stack)"
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def dns_record(domain: str, value: str) -> dict[str, str]:
    """The TXT record TikTok asks for when verifying a whole domain (it then covers its subdomains)."""
    name = domain.strip().lower().rstrip(".")
    if not _DOMAIN.match(name):
        raise OperatorError(f"{domain!r} is not a domain name like media.example.com (no scheme, no path)")
    value = value.strip().strip('"')
    if not value or any(c in value for c in "\r\n"):
        raise OperatorError("the TXT value is empty: copy it from the portal's URL properties page")
    return {"name": name, "type": "TXT", "value": value, "ttl": "300"}


@dataclass(frozen=True)
class Placement:
    """Where an object under the prefix lives in the bucket, given the URLs the signer makes."""

    root: str  # the URL of the bucket's key "" as the signer forms it (no query)
    prefix_key: str  # the bucket key that the prefix stands for ("" or "some/folder/")


def placement(prefix: str, pull: PullUrls, *, now: float) -> Placement:
    """Map the prefix to bucket keys through a URL the signer makes (so it is the worker's own layout)."""
    probe = "tiktok-publisher-layout-probe"
    signed = pull.url_for(probe, now=now)
    bare = signed.split("?", 1)[0]
    if not bare.endswith("/" + quote(probe)):
        raise OperatorError(f"the media URLs ({bare}) do not end with the object key: unexpected layout")
    root = bare[: -len(quote(probe))]
    if not prefix.startswith(root):
        raise OperatorError(
            f"the prefix {prefix} is not under the media URLs' root {root}: TikTok would not find the files. "
            f"Verify {root} (or a folder below it) instead"
        )
    return Placement(root=root, prefix_key=unquote(prefix[len(root) :]))


def lifetime(url: str, *, now: float) -> int | None:
    """Seconds the signed URL stays valid: S3's X-Amz-Expires, CloudFront's Expires; None if unsigned."""
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:
        return int(query["X-Amz-Expires"][0])
    if "Expires" in query:
        return int(query["Expires"][0]) - int(now)
    return None


def _fetch_or_raise(
    web: WebProbe, url: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    answer = web.get(url, headers=headers or {})
    if answer.error:
        raise OperatorError(f"cannot reach {url.split('?', 1)[0]}: {answer.error}")
    if 300 <= answer.status < 400:
        raise OperatorError(
            f"{url.split('?', 1)[0]} answered {answer.status}, a redirect to "
            f"{answer.header('location') or '?'}: TikTok follows no redirects, so the media must be served "
            "at this very URL"
        )
    return answer.status, answer.body, dict(answer.headers)


def verify_prefix(
    prefix: str,
    *,
    media: MediaObjects,
    pull: PullUrls,
    web: WebProbe,
    local: bool,
    now: float,
    verification_file: tuple[str, bytes] | None = None,
    url_properties: UrlProperties | None = None,
    watch: int = 0,
    pause: Callable[[float], None] | None = None,
    watch_interval: float = 60,
) -> list[Finding]:
    """Place TikTok's file (when given) and check a test object through the worker's own URLs.

    OperatorError for what makes the prefix unusable (plain http, unreachable, a redirect); a Finding for
    every other check. `watch` re-checks the test object that many times, `watch_interval` seconds apart.
    `url_properties`, when the target can tell (the local stack's TikTok), adds whether TikTok counts the
    prefix as verified. On the local stack the file is fetched with a signature (moto refuses anonymous
    reads); TikTok fetches it without one, from your CDN.
    """
    prefix = check_prefix(prefix, local=local)
    if not pull.enabled:
        raise OperatorError(
            "media pull is not configured: give --mode s3|cloudfront (or deploy MediaPullMode)"
        )
    where = placement(prefix, pull, now=now)
    findings: list[Finding] = []
    if verification_file is not None:
        signed = pull if local else None
        findings.append(
            _place_file(prefix, where, verification_file, media=media, web=web, signed=signed, now=now)
        )
    key = f"{where.prefix_key}tiktok-publisher-probe-{secrets.token_hex(6)}.mp4"
    media.put_object(key, PROBE_BYTES, content_type=PROBE_CONTENT_TYPE)
    try:
        url = pull.url_for(key, now=now)
        findings += _probe(prefix, url, web=web, now=now)
        if url_properties is not None:
            verified = url_properties.verified(url.split("?", 1)[0])
            findings.append(
                Finding(
                    "verified at TikTok",
                    verified,
                    "TikTok counts the prefix as verified"
                    if verified
                    else "not yet: add it under URL properties in the portal, with the file above",
                )
            )
        for round_ in range(1, watch + 1):
            if pause is not None:
                pause(watch_interval)
            status, _, _ = _fetch_or_raise(web, url)
            seconds = round_ * watch_interval
            findings.append(Finding(f"still served after {seconds:g} s", status == 200, f"HTTP {status}"))
    finally:
        media.delete_object(key)
    return findings


def _place_file(
    prefix: str,
    where: Placement,
    file: tuple[str, bytes],
    *,
    media: MediaObjects,
    web: WebProbe,
    signed: PullUrls | None,
    now: float,
) -> Finding:
    name, content = file
    if not name or "/" in name or name.startswith("."):
        raise OperatorError(f"{name!r}: give the verification file TikTok gave you, as downloaded")
    key = where.prefix_key + name
    media.put_object(key, content, content_type="text/plain")
    url = prefix + quote(name)
    check = "verification file served"
    answer = web.get(signed.url_for(key, now=now) if signed is not None else url)
    if answer.error:
        return Finding(
            check, False, f"placed at s3://{media.bucket}/{key}, but {url} did not answer: {answer.error}"
        )
    if answer.status == 200 and answer.body == content:
        how = (
            " (local stack: read with a signature; TikTok reads it without one, from your CDN)"
            if signed
            else ""
        )
        return Finding(check, True, f"{url} (s3://{media.bucket}/{key}){how}")
    return Finding(
        check,
        False,
        f"placed at s3://{media.bucket}/{key}, but {url} answered {answer.status}: TikTok fetches it "
        "without a signature, so let your CDN or proxy serve that one object publicly",
    )


def _probe(prefix: str, url: str, *, web: WebProbe, now: float) -> list[Finding]:
    bare = url.split("?", 1)[0]
    found = [
        Finding(
            "media URLs under the prefix",
            url.startswith(prefix),
            bare if url.startswith(prefix) else f"{bare} is not under {prefix}",
        )
    ]
    status, body, headers = _fetch_or_raise(web, url)
    found.append(Finding("served without redirect", status == 200, f"HTTP {status} from {bare}"))
    content_type = headers.get("content-type", "")
    found.append(
        Finding(
            "Content-Type",
            content_type.split(";")[0].strip() == PROBE_CONTENT_TYPE,
            content_type or "no Content-Type header",
        )
    )
    first, last = PROBE_RANGE
    status, body, headers = _fetch_or_raise(web, url, {"Range": f"bytes={first}-{last}"})
    expected = f"bytes {first}-{last}/{len(PROBE_BYTES)}"
    ranged = (
        status == 206 and headers.get("content-range") == expected and body == PROBE_BYTES[first : last + 1]
    )
    found.append(
        Finding(
            "ranged GET",
            ranged,
            f"HTTP {status}, Content-Range {headers.get('content-range') or 'missing'} "
            f"(expected 206, {expected})",
        )
    )
    seconds = lifetime(url, now=now)
    found.append(
        Finding(
            "URL valid for the hour TikTok may take",
            seconds is not None and seconds >= PULL_WINDOW_SECONDS,
            f"valid {seconds} s"
            if seconds is not None
            else "unsigned URL: its lifetime is the CDN's to keep",
        )
    )
    return found
