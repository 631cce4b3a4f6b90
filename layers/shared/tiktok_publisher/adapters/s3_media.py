"""S3 port for media: object lookups, ranged reads (for the probe and the chunk stream), presigned URLs.

The only module of `publishing/` that talks to S3. Ranged reads are streamed in pieces of PIECE_BYTES, so
whoever consumes them holds at most one piece plus what it buffers itself, never the object.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.config import Config
from botocore.exceptions import ClientError

from tiktok_publisher.adapters import aws
from tiktok_publisher.domain.errors import DomainError
from tiktok_publisher.domain.media import MediaChanged, MediaPin, ObjectInfo


class MediaStoreError(DomainError):
    """S3 refused part of a change (the message says how many objects and AWS's error codes)."""

    status_code = 503
    code = "media_store_unavailable"


PIECE_BYTES = 1024 * 1024
# TikTok may take up to an hour to download a pulled file (TIKTOK-API.md §6); leave slack for queueing.
PULL_URL_TTL_SECONDS = 3 * 3600


# What S3 answers a GetObject whose If-Match / versionId no longer names the stored object.
_CHANGED = {"PreconditionFailed", "412", "NoSuchVersion", "NoSuchKey", "404", "InvalidArgument"}


def _pinned(pin: MediaPin | None) -> dict[str, str]:
    if pin is None:
        return {}
    args = {"IfMatch": pin.etag}
    if pin.version_id:
        args["VersionId"] = pin.version_id
    return args


class S3RangeReader:
    """Random access to one S3 object through GetObject Range requests (the probe's RangeReader port), pinned
    to the ETag (and version) its HEAD saw: a file replaced while it is probed raises MediaChanged."""

    def __init__(self, media: S3Media, key: str, size: int, pin: MediaPin | None = None) -> None:
        self._media = media
        self.key = key
        self.size = size
        self.pin = pin
        self.requests = 0

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (fewer at the end of the object, b"" past it)."""
        if length <= 0 or offset >= self.size:
            return b""
        last = min(offset + length, self.size) - 1
        self.requests += 1
        return b"".join(self._media.iter_range(self.key, offset, last, pin=self.pin))


class S3Media:
    """Media objects of one bucket."""

    def __init__(self, bucket: str, s3_client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = s3_client

    @property
    def _s3(self) -> Any:
        # Looked up per call: aws.client() is cached, and tests swap it between cases.
        return self._client if self._client is not None else aws.client("s3")

    def head(self, key: str) -> ObjectInfo | None:
        """Size, type and user metadata of `key`, or None when there is no such object."""
        try:
            answer = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return ObjectInfo(
            key=key,
            size=int(answer["ContentLength"]),
            content_type=answer.get("ContentType"),
            metadata=dict(answer.get("Metadata") or {}),
            etag=answer.get("ETag"),
            version_id=answer.get("VersionId") if answer.get("VersionId") not in (None, "null") else None,
        )

    def first_under(self, prefix: str) -> ObjectInfo | None:
        """The object stored under `prefix` (an upload's folder holds one file), or None."""
        answer = self._s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=2)
        contents = answer.get("Contents") or []
        if not contents:
            return None
        return self.head(contents[0]["Key"])

    def reader(self, info: ObjectInfo) -> S3RangeReader:
        """A RangeReader over the object (for the media probe), pinned to the version `info` describes."""
        return S3RangeReader(self, info.key, info.size, info.pin)

    def _get(self, key: str, byte_range: str, pin: MediaPin | None) -> Any:
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key, Range=byte_range, **_pinned(pin))
        except ClientError as exc:
            if pin is not None and exc.response.get("Error", {}).get("Code") in _CHANGED:
                raise MediaChanged(key) from None
            raise

    def iter_range(
        self, key: str, first: int, last: int, piece: int = PIECE_BYTES, *, pin: MediaPin | None = None
    ) -> Iterator[bytes]:
        """Bytes first..last (inclusive) of `key` (of the pinned version), in pieces of at most `piece`."""
        body = self._get(key, f"bytes={first}-{last}", pin)["Body"]
        try:
            yield from body.iter_chunks(chunk_size=piece)
        finally:
            body.close()

    def open_from(self, key: str, first: int, *, pin: MediaPin | None = None) -> Any:
        """A streaming body of `key` (of the pinned version) from byte `first` to its end."""
        return self._get(key, f"bytes={first}-", pin)["Body"]

    def presign_put(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """A SigV4 presigned PUT for `key` and the headers the uploader must send.

        Content-Type, Content-Length and the declared size are signed headers (X-Amz-SignedHeaders): S3
        refuses a body of any other length, so the size declared to POST /v1/uploads is bound by the
        signature. Browsers set Content-Length from the file themselves.
        """
        metadata = {"declared-size": str(size)}
        url = self._s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size,
                "Metadata": metadata,
            },
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(size),
            "x-amz-meta-declared-size": str(size),
        }
        return url, headers

    def delete_under(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix` (data deletion); how many were deleted."""
        if not prefix.endswith("/"):
            raise ValueError("delete_under needs a folder prefix ending in '/'")
        deleted = 0
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents") or []]
            if not keys:
                continue
            answer = self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            errors = answer.get("Errors") or []
            if errors:
                codes = sorted({str(e.get("Code")) for e in errors})
                raise MediaStoreError(f"S3 refused to delete {len(errors)} upload(s) ({', '.join(codes)})")
            deleted += len(keys)
        return deleted

    def put_object(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store `body` at `key` (the go-live tool's verification file and test object)."""
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def delete_object(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def presign_get_on(
        self,
        key: str,
        base_url: str,
        *,
        expires_in: int = PULL_URL_TTL_SECONDS,
        version_id: str | None = None,
    ) -> str:
        """A presigned GET generated on `base_url`'s origin (a custom S3 endpoint on the verified domain).

        The signature covers the host, so the URL is signed for the endpoint TikTok will call, path-style
        (`{origin}/{bucket}/{key}`): the bucket then needs no DNS name of its own under the verified domain.
        """
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id  # signed: TikTok pulls the probed version, whatever came after
        url: str = _pull_client(_origin(base_url)).generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )
        if not url.startswith(base_url.rstrip("/") + "/"):
            raise ValueError(
                "MEDIA_PULL_BASE_URL must be the endpoint origin (optionally /bucket) for s3 pulls"
            )
        return url


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@functools.cache
def _pull_client(endpoint: str) -> Any:
    # A separate client: the signing host must be the public endpoint, not the one the functions use.
    import boto3  # only in s3 pull mode (cold start)

    return boto3.session.Session().client(
        "s3",
        region_name=aws.region(),
        endpoint_url=endpoint,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def cloudfront_signed_url(
    base_url: str,
    key: str,
    *,
    key_pair_id: str,
    private_key_pem: str,
    now: float,
    ttl: int = PULL_URL_TTL_SECONDS,
) -> str:
    """A CloudFront canned-policy signed URL for `key` under the distribution at `base_url`."""
    # Only in cloudfront pull mode: the RSA signing stack stays out of every other cold start.
    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError("the CloudFront signing key must be an RSA private key")

    def rsa_signer(message: bytes) -> bytes:
        # CloudFront's trusted key groups verify SHA-1 RSA signatures (its canned policy format).
        return private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    url = base_url.rstrip("/") + "/" + quote(key)
    expires = dt.datetime.fromtimestamp(now + ttl, tz=dt.UTC)
    return str(CloudFrontSigner(key_pair_id, rsa_signer).generate_presigned_url(url, date_less_than=expires))


class PullUrlSigner:
    """URLs TikTok can pull our media from (MEDIA_PULL_MODE): an S3 presigned GET on the verified endpoint,
    or a CloudFront signed URL. `enabled` is False in mode `none` (the worker then uses FILE_UPLOAD)."""

    def __init__(
        self,
        mode: str,
        base_url: str | None,
        media: S3Media,
        *,
        cloudfront_key: Any = None,
    ) -> None:
        self.mode = mode
        self.base_url = base_url
        self._media = media
        # () -> (key_pair_id, private_key_pem); read lazily: only cloudfront mode needs the secret.
        self._cloudfront_key = cloudfront_key

    @property
    def enabled(self) -> bool:
        """True when TikTok can be pointed at a URL of ours."""
        return self.mode in {"s3", "cloudfront"} and bool(self.base_url)

    def url_for(self, key: str, *, now: float, pin: MediaPin | None = None) -> str:
        """A time-limited URL for `key` under the verified prefix (S3 mode: of the pinned version)."""
        if not self.enabled or self.base_url is None:
            raise ValueError("media pull is not configured (MEDIA_PULL_MODE / MEDIA_PULL_BASE_URL)")
        if self.mode == "s3":
            return self._media.presign_get_on(
                key, self.base_url, version_id=pin.version_id if pin is not None else None
            )
        key_pair_id, private_key_pem = self._cloudfront_key()
        return cloudfront_signed_url(
            self.base_url, key, key_pair_id=key_pair_id, private_key_pem=private_key_pem, now=now
        )
