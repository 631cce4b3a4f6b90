"""§5 beyond the arithmetic: the single-chunk 64,000,000-byte cap, the 2026-08 refusal of every multi-chunk
init, and the "chunk_size must equal video_size for one chunk" reading."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import Api, MiB, error_code, file_source, put_chunk, upload_all

MIN_CHUNK = 5 * MiB
MAX_CHUNK = 64_000_000
REFUSAL = "The chunk size is invalid"


@pytest.fixture
def client(emulator: EmulatorHandle, api: Callable[..., Api]) -> Api:
    emulator.configure(rate_limits={"inbox_init": 10_000, "video_init": 10_000}, pending_draft_cap=10_000)
    return api("creator_private")


def refused(response, message: str | None = None) -> bool:
    body = response.json()
    ok = (response.status_code, body["error"]["code"]) == (400, "invalid_params")
    return ok and (message is None or body["error"]["message"].startswith(message))


def test_single_chunk_is_capped_at_64_000_000_bytes(client: Api) -> None:
    assert error_code(client.init_inbox(file_source(MAX_CHUNK))) == "ok"
    assert refused(client.init_inbox(file_source(MAX_CHUNK + 1)))
    # chunk_size within the limit but a remainder that makes the one chunk bigger than 64 MB: refused too.
    assert refused(client.init_inbox(file_source(100_000_000, 60_000_000, 1)), REFUSAL)
    assert refused(client.init_direct(source=file_source(127_999_999, 64_000_000, 1)))
    # The same sizes as two chunks are fine.
    assert error_code(client.init_inbox(file_source(100_000_000, 50_000_000, 2))) == "ok"
    assert error_code(client.init_inbox(file_source(127_999_999, 63_999_999, 2))) == "ok"


def test_single_chunk_cap_is_configurable(emulator: EmulatorHandle, client: Api) -> None:
    emulator.configure(single_chunk_max_bytes=128_000_000)
    assert error_code(client.init_inbox(file_source(100_000_000, 60_000_000, 1))) == "ok"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(min_value=MIN_CHUNK, max_value=300_000_000), chunk=st.integers(MIN_CHUNK, MAX_CHUNK))
def test_one_chunk_accepted_iff_at_most_64_000_000(client: Api, size: int, chunk: int) -> None:
    count = size // chunk
    valid = chunk <= size and 1 <= count <= 1000 and (count > 1 or size <= MAX_CHUNK)
    response = client.init_inbox(file_source(size, chunk, max(count, 1)))
    assert error_code(response) == ("ok" if valid else "invalid_params"), (size, chunk, count)


def test_2026_08_refusal_of_every_multi_chunk_init(emulator: EmulatorHandle, client: Api) -> None:
    assert emulator.config.refuse_multi_chunk_init is False
    emulator.configure(refuse_multi_chunk_init=True)
    for source in (file_source(50_000_123, 10_000_000, 5), file_source(2 * MIN_CHUNK, MIN_CHUNK, 2)):
        for response in (client.init_inbox(source), client.init_direct(source=source)):
            assert refused(response)
            assert response.json()["error"]["message"] == REFUSAL  # exactly what integrators quote
    # Single chunks up to 64,000,000 bytes still pass, exact size or not.
    assert error_code(client.init_inbox(file_source(4096))) == "ok"
    assert error_code(client.init_inbox(file_source(MAX_CHUNK))) == "ok"
    assert error_code(client.init_direct(source=file_source(17_800_000, 10_000_000, 1))) == "ok"
    assert refused(client.init_inbox(file_source(MAX_CHUNK + 1)))


def test_single_chunk_upload_of_64_000_000_bytes_goes_through(emulator: EmulatorHandle, client: Api) -> None:
    emulator.configure(refuse_multi_chunk_init=True)
    data = fake_mp4(MAX_CHUNK)
    response = client.init_direct(source=file_source(len(data)))
    publish_id, url = response.json()["data"]["publish_id"], response.json()["data"]["upload_url"]
    assert put_chunk(url, data, 0, len(data)).status_code == 201
    emulator.advance(emulator.config.processing_delay)
    assert client.status(publish_id).json()["data"]["status"] == "PUBLISH_COMPLETE"


def test_single_chunk_must_equal_video_size_when_configured(emulator: EmulatorHandle, client: Api) -> None:
    # By default a 17.8 MB video announced with chunk_size 10,000,000 and one chunk is legal by the docs...
    lenient = client.init_inbox(file_source(17_800_000, 10_000_000, 1))
    assert error_code(lenient) == "ok"
    # ...under the stricter reading it is refused, and only chunk_size == video_size passes.
    emulator.configure(single_chunk_must_equal_size=True)
    response = client.init_inbox(file_source(17_800_000, 10_000_000, 1))
    assert refused(response)
    assert response.json()["error"]["message"] == REFUSAL
    assert error_code(client.init_inbox(file_source(17_800_000))) == "ok"
    # Multi-chunk plans are not affected by this switch.
    assert error_code(client.init_inbox(file_source(50_000_123, 10_000_000, 5))) == "ok"


def test_documented_multi_chunk_rules_are_unchanged(client: Api) -> None:
    """§5: floor count, remainder on the last chunk (up to 128 MB), in order."""
    data = fake_mp4(3 * MIN_CHUNK + 1234)
    response = client.init_inbox(file_source(len(data), MIN_CHUNK, 3))
    assert error_code(response) == "ok"
    statuses = [r.status_code for r in upload_all(response.json()["data"]["upload_url"], data, MIN_CHUNK)]
    assert statuses == [206, 206, 201]
    assert error_code(client.init_inbox(file_source(191_999_999, 64_000_000, 2))) == "ok"  # last 127,999,999
    assert refused(client.init_inbox(file_source(200_000_000, 64_000_001, 3)))  # chunk over 64 MB
    assert refused(client.init_inbox(file_source(50_000_123, 10_000_000, 6)))  # ceil, not floor
