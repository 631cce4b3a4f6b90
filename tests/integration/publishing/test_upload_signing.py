"""Issue 11: presigned uploads S3 accepts (SigV4, regional virtual-hosted) with the size bound by the
signature, and an object replaced after probing never published. moto checks no signature, so the tests
decode what was signed and recompute SigV4 themselves."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from tests.integration.publishing.conftest import Publisher
from tests.media import make_mp4

# The fixture's moto credentials: the presigner signed with them.
SECRET_ACCESS_KEY = "testing"


def _sigv4_query_signature(method: str, url: str, headers: dict[str, str]) -> str:
    """X-Amz-Signature of a presigned URL recomputed from its parts (AWS SigV4, query authentication)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    signed = query["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **{k.lower(): v for k, v in headers.items()}}
    canonical_headers = "".join(f"{name}:{all_headers[name].strip()}\n" for name in signed)
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(query.items())
        if k != "X-Amz-Signature"
    )
    canonical_request = "\n".join(
        [method, parts.path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"]
    )
    date, region, service, terminator = query["X-Amz-Credential"].split("/")[1:]
    scope = f"{date}/{region}/{service}/{terminator}"
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{SECRET_ACCESS_KEY}".encode()
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_upload_url_is_sigv4_regional_virtual_hosted_and_signs_the_size(publisher: Publisher) -> None:
    # Given a connected account
    open_id = publisher.connect("creator_private")

    # When the API signs an upload of 1,234,567 bytes
    answer = publisher.api(
        "POST",
        "/v1/uploads",
        body={"open_id": open_id, "filename": "clip.mp4", "content_type": "video/mp4", "size": 1_234_567},
    )

    # Then the URL is SigV4 (S3 refuses SigV2 on buckets created since June 2020) on the regional
    # virtual-hosted endpoint, and no SigV2 parameter is left
    assert answer.status == 201, answer.body
    url, headers = answer.body["url"], answer.body["headers"]
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert not {"AWSAccessKeyId", "Signature", "Expires"} & set(query)
    assert parts.scheme == "https"
    assert parts.netloc == f"{publisher.env.aws.bucket}.s3.us-east-1.amazonaws.com"
    assert query["X-Amz-Credential"].split("/")[2:] == ["us-east-1", "s3", "aws4_request"]
    assert int(query["X-Amz-Expires"]) == 3600
    # And the size is a signed header, as are the type and the declared size
    signed = query["X-Amz-SignedHeaders"].split(";")
    assert {"content-length", "content-type", "host", "x-amz-meta-declared-size"} <= set(signed)
    assert headers["Content-Length"] == "1234567"
    # And the signature is the SigV4 of exactly these headers: another length is another signature, which S3
    # refuses (SignatureDoesNotMatch)
    assert _sigv4_query_signature("PUT", url, headers) == query["X-Amz-Signature"]
    bigger = {**headers, "Content-Length": "1234568"}
    assert _sigv4_query_signature("PUT", url, bigger) != query["X-Amz-Signature"]
    other_type = {**headers, "Content-Type": "text/html"}
    assert _sigv4_query_signature("PUT", url, other_type) != query["X-Amz-Signature"]


def test_an_object_replaced_after_probing_fails_the_post_with_a_clear_reason(publisher: Publisher) -> None:
    # Given a video uploaded, probed and queued (its ETag recorded with the post)
    open_id = publisher.connect("creator_private")
    video = make_mp4(duration_s=3.0)
    ticket = publisher.upload(video, open_id)
    answer = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "t"},
        }
    )
    assert answer.status == 202, answer.body
    post = publisher.post(answer.body["post_id"])
    assert post["source"]["etag"]

    # When the leaked upload URL is used again with other bytes of the same size before the worker runs
    other = bytearray(video)
    other[-1] ^= 0xFF
    replaced = requests.put(ticket["url"], data=bytes(other), headers=ticket["headers"], timeout=30)
    assert replaced.status_code == 200
    assert publisher.run_worker() == 0

    # Then nothing reached TikTok and the post failed saying why and what to do
    post = publisher.post(answer.body["post_id"])
    assert post["status"] == "failed", post
    assert post["error"]["code"] == "media_replaced"
    assert post["error"]["class"] == "fix_media"
    assert "replaced after it was checked" in post["error"]["message"]
    assert publisher.tiktok_posts() == []


def test_worker_reads_are_pinned_to_the_probed_etag(publisher: Publisher) -> None:
    from tiktok_publisher.adapters.s3_media import S3Media
    from tiktok_publisher.domain.media import MediaChanged, MediaPin

    s3 = publisher.env.aws.s3
    bucket = publisher.env.aws.bucket
    s3.put_object(Bucket=bucket, Key="uploads/t/o/u/a.mp4", Body=b"first version")
    media = S3Media(bucket)
    head = media.head("uploads/t/o/u/a.mp4")
    assert head is not None
    assert head.pin is not None
    assert b"".join(media.iter_range(head.key, 0, 4, pin=head.pin)) == b"first"

    s3.put_object(Bucket=bucket, Key="uploads/t/o/u/a.mp4", Body=b"other version")

    for read in (
        lambda: b"".join(media.iter_range(head.key, 0, 4, pin=head.pin)),
        lambda: media.open_from(head.key, 0, pin=head.pin).read(),
        lambda: media.reader(head).read(0, 5),
    ):
        try:
            read()
        except MediaChanged:
            continue
        raise AssertionError("a replaced object was read")
    assert not MediaPin.from_source({"etag": head.etag}).matches(media.head(head.key))
