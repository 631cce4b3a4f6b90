"""§6 PULL_FROM_URL: verified prefixes only, https (http on loopback), no redirects, real download, cancel."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.config import Config

from local_stack import procs
from tiktok_emulator.pulls import url_verified
from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import Api, Origin, error_code

PHOTO_INIT = "/v2/post/publish/content/init/"


def pull(url: str) -> dict:
    return {"source": "PULL_FROM_URL", "video_url": url}


def status_of(client: Api, publish_id: str) -> dict:
    return dict(client.status(publish_id).json()["data"])


def settled(emulator: EmulatorHandle, client: Api, publish_id: str) -> dict:
    """Wait (bounded) for the download to end, then let the processing delay pass on the clock."""
    emulator.wait_for(
        lambda: (
            emulator.post(publish_id)["transfer_done_at"] or emulator.post(publish_id)["status"] == "FAILED"
        )
    )
    emulator.advance(emulator.config.processing_delay)
    return status_of(client, publish_id)


@pytest.fixture
def verified(emulator: EmulatorHandle, origin: Origin) -> Origin:
    emulator.configure(verified_url_prefixes=[origin.base_url + "/"])
    return origin


@pytest.mark.parametrize(
    ("url", "prefixes", "ok"),
    [
        ("https://media.example.com/v.mp4", ["example.com"], True),  # a domain covers subdomains
        ("https://example.com/v.mp4", ["example.com"], True),
        ("https://badexample.com/v.mp4", ["example.com"], False),
        ("https://example.com.evil.io/v.mp4", ["example.com"], False),
        ("http://media.example.com/v.mp4", ["example.com"], False),  # https required off loopback
        ("https://cdn.example.com/videos/v.mp4", ["https://cdn.example.com/videos/"], True),
        ("https://cdn.example.com/other/v.mp4", ["https://cdn.example.com/videos/"], False),
        ("http://127.0.0.1:4566/bucket/v.mp4", ["http://127.0.0.1:4566/bucket/"], True),
        ("http://localhost:9/v.mp4", ["localhost"], True),
        ("https://example.com/v.mp4", [], False),
    ],
)
def test_url_policy(url: str, prefixes: list[str], ok: bool) -> None:
    assert url_verified(url, prefixes, allow_http_loopback=True) is ok


def test_http_loopback_can_be_switched_off() -> None:
    assert not url_verified("http://127.0.0.1:80/v.mp4", ["127.0.0.1"], allow_http_loopback=False)


def test_unverified_url_is_403_at_init(
    emulator: EmulatorHandle, api: Callable[..., Api], origin: Origin
) -> None:
    response = api("creator_private").init_direct(source=pull(f"{origin.base_url}/video.mp4"))
    assert (response.status_code, error_code(response)) == (403, "url_ownership_unverified")
    emulator.configure(verified_url_prefixes=[f"{origin.base_url}/other/"])
    response = api("creator_private").init_inbox(pull(f"{origin.base_url}/video.mp4"))
    assert (response.status_code, error_code(response)) == (403, "url_ownership_unverified")
    assert origin.hits == []


def test_pull_downloads_and_completes(
    emulator: EmulatorHandle, api: Callable[..., Api], verified: Origin
) -> None:
    client = api("creator_private")
    response = client.init_direct(source=pull(f"{verified.base_url}/video.mp4"))
    data = response.json()["data"]
    assert set(data) == {"publish_id"}
    final = settled(emulator, client, data["publish_id"])
    body = verified.files["/video.mp4"]
    assert final["status"] == "PUBLISH_COMPLETE"
    assert final["downloaded_bytes"] == len(body)
    assert emulator.received_bytes(data["publish_id"]) == body
    assert emulator.post(data["publish_id"])["sha256"] == hashlib.sha256(body).hexdigest()


def test_redirect_is_not_followed(
    emulator: EmulatorHandle, api: Callable[..., Api], verified: Origin
) -> None:
    client = api("creator_private")
    publish_id = client.init_direct(source=pull(f"{verified.base_url}/redirect.mp4")).json()["data"][
        "publish_id"
    ]
    final = settled(emulator, client, publish_id)
    assert (final["status"], final["fail_reason"]) == ("FAILED", "video_pull_failed")
    assert "/video.mp4" not in verified.hits


def test_missing_and_unreachable_sources_fail(
    emulator: EmulatorHandle, api: Callable[..., Api], verified: Origin
) -> None:
    client = api("creator_private")
    missing = client.init_inbox(pull(f"{verified.base_url}/nothing.mp4")).json()["data"]["publish_id"]
    emulator.configure(verified_url_prefixes=["127.0.0.1"])
    unreachable = client.init_inbox(pull("http://127.0.0.1:9/video.mp4")).json()["data"]["publish_id"]
    for publish_id in (missing, unreachable):
        final = settled(emulator, client, publish_id)
        assert (final["status"], final["fail_reason"]) == ("FAILED", "video_pull_failed")


def test_pulled_non_video_fails_format_check(
    emulator: EmulatorHandle, api: Callable[..., Api], verified: Origin
) -> None:
    client = api("creator_private")
    publish_id = client.init_inbox(pull(f"{verified.base_url}/notvideo.mp4")).json()["data"]["publish_id"]
    final = settled(emulator, client, publish_id)
    assert (final["status"], final["fail_reason"]) == ("FAILED", "file_format_check_failed")


def test_cancel_a_download_in_progress(
    emulator: EmulatorHandle, api: Callable[..., Api], verified: Origin
) -> None:
    client = api("creator_private")
    publish_id = client.init_direct(source=pull(f"{verified.base_url}/slow/video.mp4")).json()["data"][
        "publish_id"
    ]
    emulator.wait_for(lambda: emulator.post(publish_id)["downloaded_bytes"] > 0)
    assert status_of(client, publish_id)["status"] == "PROCESSING_DOWNLOAD"
    response = client.cancel(publish_id)
    assert (response.status_code, error_code(response)) == (200, "ok")
    verified.release.set()
    final = status_of(client, publish_id)
    assert (final["status"], final["fail_reason"]) == ("FAILED", "publish_cancelled")
    emulator.advance(60)
    assert status_of(client, publish_id)["status"] == "FAILED"
    # Nothing left to cancel now, and FILE_UPLOAD tasks cannot be cancelled.
    assert error_code(client.cancel(publish_id)) == "invalid_params"
    upload = client.init_direct().json()["data"]["publish_id"]
    assert error_code(client.cancel(upload)) == "invalid_params"


def photo_body(mode: str, urls: list[str]) -> dict:
    return {
        "media_type": "PHOTO",
        "post_mode": mode,
        "post_info": {"title": "t", "description": "d", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": 0},
    }


def test_photo_pulls(emulator: EmulatorHandle, api: Callable[..., Api], verified: Origin) -> None:
    client = api("creator_private")
    base = verified.base_url
    direct = client.post(PHOTO_INIT, photo_body("DIRECT_POST", [f"{base}/photo1.jpg", f"{base}/photo2.webp"]))
    inbox = client.post(PHOTO_INIT, photo_body("MEDIA_UPLOAD", [f"{base}/photo1.jpg"]))
    bad = client.post(PHOTO_INIT, photo_body("MEDIA_UPLOAD", [f"{base}/notphoto.jpg"]))
    gone = client.post(PHOTO_INIT, photo_body("MEDIA_UPLOAD", [f"{base}/photo1.jpg", f"{base}/missing.jpg"]))
    ids = [r.json()["data"]["publish_id"] for r in (direct, inbox, bad, gone)]
    results = [settled(emulator, client, publish_id) for publish_id in ids]
    assert results[0]["status"] == "PUBLISH_COMPLETE"
    assert results[0]["downloaded_bytes"] == len(verified.files["/photo1.jpg"]) + len(
        verified.files["/photo2.webp"]
    )
    assert results[1]["status"] == "SEND_TO_USER_INBOX"
    assert (results[2]["status"], results[2]["fail_reason"]) == ("FAILED", "file_format_check_failed")
    assert (results[3]["status"], results[3]["fail_reason"]) == ("FAILED", "photo_pull_failed")


@pytest.mark.parametrize(
    ("url", "prefixes", "ok"),
    [
        # A URL prefix is matched on scheme, host, port and path segments, not as a raw string.
        ("http://127.0.0.1:45667/bucket/v.mp4", ["http://127.0.0.1:4566"], False),
        ("http://127.0.0.1:4566/bucket/v.mp4", ["http://127.0.0.1:4566"], True),
        ("http://127.0.0.1:4566/bucket-evil/v.mp4", ["http://127.0.0.1:4566/bucket"], False),
        ("http://127.0.0.1:4566/bucket/v.mp4", ["http://127.0.0.1:4566/bucket"], True),
        ("https://cdn.example.com@evil.test/videos/v.mp4", ["https://cdn.example.com"], False),
        ("https://cdn.example.com/videos/../secret/v.mp4", ["https://cdn.example.com/videos/"], False),
        ("https://cdn.example.com/videos/%2e%2e/secret/v.mp4", ["https://cdn.example.com/videos/"], False),
        ("https://CDN.example.com:443/videos/v.mp4", ["https://cdn.example.com/videos/"], True),
        ("http://127.0.0.1:4566/b/k.mp4", ["https://127.0.0.1:4566/b/"], False),  # scheme must match
        # A presigned URL: the query string (the signature) plays no part.
        (
            "http://127.0.0.1:4566/media-bucket/u/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600",
            ["http://127.0.0.1:4566/"],
            True,
        ),
    ],
)
def test_url_prefix_matching_is_structural(url: str, prefixes: list[str], ok: bool) -> None:
    assert url_verified(url, prefixes, allow_http_loopback=True) is ok


@pytest.fixture
def moto_s3() -> Iterator[str]:
    """moto's S3 on a loopback port in its own process (as the local stack runs it): its base URL."""
    process = procs.spawn([sys.executable, "-m", "local_stack.moto_main", "--port", "0"])
    try:
        assert process.stdout is not None
        port = json.loads(process.stdout.readline())["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(process)


def test_pull_from_a_moto_presigned_url_on_a_local_verified_prefix(
    emulator: EmulatorHandle, api: Callable[..., Api], moto_s3: str
) -> None:
    """What `make run` needs: the local stack verifies moto's origin; the product hands out presigned GETs."""
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_s3,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="media")
    video = fake_mp4(3 * 1024 * 1024)
    photo = b"\xff\xd8\xff\xe0" + bytes(5000)
    s3.put_object(Bucket="media", Key="tenant/u1/clip.mp4", Body=video)
    s3.put_object(Bucket="media", Key="tenant/u1/p.jpg", Body=photo)
    video_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "media", "Key": "tenant/u1/clip.mp4"}
    )
    photo_url = s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "tenant/u1/p.jpg"})
    assert video_url.startswith(moto_s3 + "/media/")
    client = api("creator_private")
    refused = client.init_direct(source=pull(video_url))
    assert error_code(refused) == "url_ownership_unverified"
    emulator.configure(verified_url_prefixes=[moto_s3 + "/"])  # what the local stack passes
    publish_id = client.init_direct(source=pull(video_url)).json()["data"]["publish_id"]
    assert settled(emulator, client, publish_id)["status"] == "PUBLISH_COMPLETE"
    assert emulator.received_bytes(publish_id) == video
    body = {
        "media_type": "PHOTO",
        "post_mode": "MEDIA_UPLOAD",
        "post_info": {"title": "local photo"},
        "source_info": {"source": "PULL_FROM_URL", "photo_images": [photo_url], "photo_cover_index": 0},
    }
    photo_id = client.post(PHOTO_INIT, body).json()["data"]["publish_id"]
    assert settled(emulator, client, photo_id)["status"] == "SEND_TO_USER_INBOX"
    assert emulator.received_bytes(photo_id) == photo


def test_command_line_verifies_a_loopback_prefix() -> None:
    from tiktok_emulator.__main__ import build_config, parse_args

    config = build_config(parse_args(["--verified-prefix", "http://127.0.0.1:4566/"]))
    assert config.verified_url_prefixes == ["http://127.0.0.1:4566/"]
    assert config.allow_http_loopback is True
    assert url_verified(
        "http://127.0.0.1:4566/media/k.mp4?X-Amz-Signature=x", config.verified_url_prefixes, True
    )
