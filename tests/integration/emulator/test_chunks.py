"""§5 FILE_UPLOAD chunk protocol: init arithmetic and the PUT status codes, over real HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import TIMEOUT, Api, MiB, error_code, file_source, put_chunk, upload_all

MIN_CHUNK = 5 * MiB
MAX_CHUNK = 64_000_000
MAX_LAST_CHUNK = 128_000_000


def init_upload(client: Api, source: dict) -> tuple[str, str]:
    response = client.init_inbox(source)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return data["publish_id"], data["upload_url"]


@pytest.fixture
def client(emulator: EmulatorHandle, api: Callable[..., Api]) -> Api:
    emulator.configure(rate_limits={"inbox_init": 10_000}, pending_draft_cap=10_000)
    return api("creator_public")


# --- init arithmetic ---------------------------------------------------------------------------------
def test_spec_example_is_accepted(client: Api) -> None:
    response = client.init_inbox(file_source(50_000_123, 10_000_000, 5))
    assert error_code(response) == "ok"


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (50_000_123, 10_000_000, 6),  # ceil instead of floor
        (50_000_123, 10_000_000, 4),
        (20 * MiB, 4 * MiB, 5),  # chunk too small
        (200_000_000, 64_000_001, 3),  # chunk too big (decimal 64 MB is the top)
        (3 * MiB, 1 * MiB, 3),  # a video under 5 MB is one chunk
        (3 * MiB, 3 * MiB, 2),
        (10 * MiB, 20 * MiB, 0),
        (MIN_CHUNK * 1001, MIN_CHUNK, 1001),  # more than 1000 chunks
        (0, 0, 0),
        (5 * 1024**3, 64_000_000, 83),  # over 4 GB
    ],
)
def test_bad_chunk_arithmetic_is_invalid_params(client: Api, size: int, chunk: int, count: int) -> None:
    response = client.init_inbox(file_source(size, chunk, count))
    assert (response.status_code, error_code(response)) == (400, "invalid_params")


def test_non_integer_sizes_are_invalid(client: Api) -> None:
    source = {"source": "FILE_UPLOAD", "video_size": "1000", "chunk_size": 1000, "total_chunk_count": 1}
    assert error_code(client.init_inbox(source)) == "invalid_params"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(min_value=1, max_value=4 * 1024**3),
    chunk=st.integers(min_value=1, max_value=80_000_000),
    delta=st.sampled_from([0, 0, 0, -1, 1]),
)
def test_chunk_arithmetic_property(
    emulator: EmulatorHandle, client: Api, size: int, chunk: int, delta: int
) -> None:
    """Accepted iff: under 5 MiB as one whole chunk, else 5 MiB..64e6 chunks, floor count, 1..1000."""
    emulator.configure(single_chunk_max_bytes=MAX_LAST_CHUNK)  # the docs' arithmetic alone (no 64 MB cap)
    if size < MIN_CHUNK:
        chunk, count = (size, 1 + delta) if delta or chunk % 2 else (chunk, 1)
        valid = chunk == size and count == 1
    else:
        count = size // chunk + delta
        valid = MIN_CHUNK <= chunk <= min(MAX_CHUNK, size) and delta == 0 and 1 <= count <= 1000
    response = client.init_inbox(file_source(size, chunk, count))
    assert error_code(response) == ("ok" if valid else "invalid_params"), (size, chunk, count)


# --- PUT ---------------------------------------------------------------------------------------------
def test_multi_chunk_upload_in_order(emulator: EmulatorHandle, client: Api) -> None:
    data = fake_mp4(2 * MIN_CHUNK + 12345)
    publish_id, url = init_upload(client, file_source(len(data), MIN_CHUNK, 2))
    first = put_chunk(url, data[:MIN_CHUNK], 0, len(data))
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-{MIN_CHUNK - 1}/{len(data)}"
    last = put_chunk(url, data[MIN_CHUNK:], MIN_CHUNK, len(data))  # the remainder rides on the last chunk
    assert last.status_code == 201
    assert last.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    post = emulator.post(publish_id)
    assert post["uploaded_bytes"] == len(data)
    assert post["sha256"] == hashlib.sha256(data).hexdigest()
    assert emulator.received_bytes(publish_id) == data
    admin = requests.get(f"{emulator.base_url}/_admin/posts/{publish_id}/bytes", timeout=TIMEOUT)
    assert admin.content == data


def test_spec_example_upload(client: Api) -> None:
    data = fake_mp4(50_000_123)
    _, url = init_upload(client, file_source(len(data), 10_000_000, 5))
    responses = upload_all(url, data, 10_000_000)
    assert [r.status_code for r in responses] == [206, 206, 206, 206, 201]
    assert responses[-1].headers["Content-Range"] == "bytes 0-50000122/50000123"


def test_single_small_chunk(client: Api) -> None:
    data = fake_mp4(4096)
    _, url = init_upload(client, file_source(len(data)))
    assert put_chunk(url, data, 0, len(data), "video/quicktime").status_code == 201


def test_out_of_order_and_duplicate_chunks_are_416(client: Api) -> None:
    data = fake_mp4(3 * MIN_CHUNK)
    _, url = init_upload(client, file_source(len(data), MIN_CHUNK, 3))
    skipped = put_chunk(url, data[MIN_CHUNK : 2 * MIN_CHUNK], MIN_CHUNK, len(data))
    assert skipped.status_code == 416
    assert skipped.headers["Content-Range"] == f"bytes */{len(data)}"
    assert put_chunk(url, data[:MIN_CHUNK], 0, len(data)).status_code == 206
    duplicate = put_chunk(url, data[:MIN_CHUNK], 0, len(data))
    assert duplicate.status_code == 416
    assert duplicate.headers["Content-Range"] == f"bytes 0-{MIN_CHUNK - 1}/{len(data)}"
    assert put_chunk(url, data[MIN_CHUNK : 2 * MIN_CHUNK], MIN_CHUNK, len(data)).status_code == 206
    assert put_chunk(url, data[2 * MIN_CHUNK :], 2 * MIN_CHUNK, len(data)).status_code == 201
    assert put_chunk(url, data[2 * MIN_CHUNK :], 2 * MIN_CHUNK, len(data)).status_code == 416


def test_bad_headers_are_400(client: Api) -> None:
    data = fake_mp4(2 * MIN_CHUNK)
    _, url = init_upload(client, file_source(len(data), MIN_CHUNK, 2))
    chunk = data[:MIN_CHUNK]
    cases = [
        {"Content-Type": "application/octet-stream", "Content-Range": f"bytes 0-{MIN_CHUNK - 1}/{len(data)}"},
        {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{MIN_CHUNK - 1}/{len(data) + 1}"},  # total
        {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{MIN_CHUNK}/{len(data)}"},  # length mismatch
        {"Content-Type": "video/mp4", "Content-Range": f"0-{MIN_CHUNK - 1}/{len(data)}"},  # malformed
        {"Content-Type": "video/mp4"},  # missing
    ]
    for headers in cases:
        response = requests.put(url, data=chunk, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 400, headers
        assert response.headers["Content-Range"] == f"bytes */{len(data)}"
    # A first chunk cut at the wrong boundary is refused too.
    short = put_chunk(url, data[: MIN_CHUNK - 1], 0, len(data))
    assert short.status_code == 400
    assert put_chunk(url, chunk, 0, len(data)).status_code == 206


def test_expired_upload_url_is_403(emulator: EmulatorHandle, client: Api) -> None:
    data = fake_mp4(2 * MIN_CHUNK)
    _, url = init_upload(client, file_source(len(data), MIN_CHUNK, 2))
    assert put_chunk(url, data[:MIN_CHUNK], 0, len(data)).status_code == 206
    emulator.advance(3601)
    response = put_chunk(url, data[MIN_CHUNK:], MIN_CHUNK, len(data))
    assert response.status_code == 403
    assert response.headers["Content-Range"] == f"bytes 0-{MIN_CHUNK - 1}/{len(data)}"


def test_upload_url_ttl_is_configurable(emulator: EmulatorHandle, client: Api) -> None:
    emulator.configure(upload_url_ttl=60)
    data = fake_mp4(1000)
    _, url = init_upload(client, file_source(len(data)))
    emulator.advance(61)
    assert put_chunk(url, data, 0, len(data)).status_code == 403


def test_unknown_upload_is_404(emulator: EmulatorHandle, client: Api) -> None:
    data = fake_mp4(1000)
    _, url = init_upload(client, file_source(len(data)))
    assert put_chunk(url.replace("upload_token=", "upload_token=x"), data, 0, 1000).status_code == 404
    bogus = f"{emulator.base_url}/upload/video/?upload_id=1&upload_token=2"
    assert put_chunk(bogus, data, 0, 1000).status_code == 404


def test_chunked_transfer_encoding_is_refused(client: Api) -> None:
    data = fake_mp4(4096)
    _, url = init_upload(client, file_source(len(data)))
    headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    response = requests.put(url, data=iter([data[:2000], data[2000:]]), headers=headers, timeout=TIMEOUT)
    assert response.status_code == 400
    assert put_chunk(url, data, 0, len(data)).status_code == 201
