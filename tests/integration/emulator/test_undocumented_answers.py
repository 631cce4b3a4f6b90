"""Answers TikTok's docs do not describe, which a client must survive (issue 12), as fault modes:
a chunk PUT answered with another 2xx, a status value the docs do not list, TikTok failing a post `internal`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import TIMEOUT, Api, error_code, file_source, put_chunk


def _uploaded(emulator: EmulatorHandle, client: Api, size: int = 600_000) -> str:
    data = fake_mp4(size)
    answer = client.init_direct(source=file_source(len(data))).json()["data"]
    assert put_chunk(answer["upload_url"], data, 0, len(data)).status_code == 201
    return str(answer["publish_id"])


def test_status_as_serves_the_chunk_and_answers_another_2xx(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    client = api("creator_private")
    chunk = 5 * 1024 * 1024
    data = fake_mp4(2 * chunk)
    answer = client.init_direct(source=file_source(len(data), chunk, 2)).json()["data"]
    emulator.fault("chunk", "status_as", status=200)

    first = put_chunk(answer["upload_url"], data[:chunk], 0, len(data))

    # Then the chunk is stored (progress moved on) though the answer is 200, not the documented 206
    assert first.status_code == 200
    assert first.headers["Content-Range"] == f"bytes 0-{chunk - 1}/{len(data)}"
    assert put_chunk(answer["upload_url"], data[chunk:], chunk, len(data)).status_code == 201
    assert emulator.received_bytes(answer["publish_id"]) == data


def test_status_value_reports_a_status_the_docs_do_not_list(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    client = api("creator_private")
    publish_id = _uploaded(emulator, client)
    emulator.fault("status", "status_value", value="PROCESSING_PUBLISH")

    odd = client.status(publish_id)
    usual = client.status(publish_id)

    assert (odd.status_code, error_code(odd)) == (200, "ok")
    assert odd.json()["data"]["status"] == "PROCESSING_PUBLISH"
    assert usual.json()["data"]["status"] in {"PROCESSING_UPLOAD", "PUBLISH_COMPLETE"}


def test_processing_fail_ends_the_next_post_failed_with_the_reason(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    emulator.configure(processing_delay=0)
    client = api("creator_private")
    emulator.fault("processing", "fail", code="internal")

    failed = _uploaded(emulator, client)
    emulator.wait_for(lambda: client.status(failed).json()["data"]["status"] == "FAILED", timeout=10)
    passed = _uploaded(emulator, client)
    emulator.wait_for(
        lambda: client.status(passed).json()["data"]["status"] == "PUBLISH_COMPLETE", timeout=10
    )

    data = client.status(failed).json()["data"]
    assert data["fail_reason"] == "internal"
    failures = [w["content"] for w in emulator.webhooks() if w["event"] == "post.publish.failed"]
    assert [(f["publish_id"], f["reason"]) for f in failures] == [(failed, "internal")]


@pytest.mark.parametrize(
    "spec",
    [
        {"endpoint": "creator_info", "mode": "status_value"},
        {"endpoint": "status", "mode": "fail", "code": "internal"},
        {"endpoint": "processing", "mode": "5xx"},
        {"endpoint": "processing", "mode": "fail", "code": " "},
        {"endpoint": "chunk", "mode": "status_as", "status": 42},
    ],
)
def test_new_modes_are_validated(emulator: EmulatorHandle, spec: dict[str, object]) -> None:
    answer = requests.post(f"{emulator.base_url}/_admin/faults", json=spec, timeout=TIMEOUT)
    assert answer.status_code == 400
