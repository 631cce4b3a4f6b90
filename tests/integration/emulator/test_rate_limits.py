"""§6 rate limits: per access token, per endpoint, sliding one-minute windows on the emulator clock.
init 6/min (each init endpoint its own bucket), creator_info 20, status 30, cancel 30, video query 600."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT, Api, error_code

# Bodies are deliberately minimal: a request is counted before its scope and body are checked.
CALLS: dict[str, Callable[[Api], requests.Response]] = {
    "video_init": lambda c: c.post("/v2/post/publish/video/init/", {}),
    "inbox_init": lambda c: c.post("/v2/post/publish/inbox/video/init/", {}),
    "photo_init": lambda c: c.post("/v2/post/publish/content/init/", {}),
    "creator_info": lambda c: c.creator_info(),
    "status": lambda c: c.status("v_pub_file~v2-1.0"),
    "cancel": lambda c: c.cancel("v_pub_file~v2-1.0"),
    "video_query": lambda c: c.post("/v2/video/query/?fields=id", {"filters": {"video_ids": ["1"]}}),
}
DOCUMENTED = {
    "video_init": 6,
    "inbox_init": 6,
    "photo_init": 6,
    "creator_info": 20,
    "status": 30,
    "cancel": 30,
    "user_info": 600,
    "video_query": 600,
}


def test_documented_limits_are_the_defaults(emulator: EmulatorHandle) -> None:
    assert emulator.config.rate_limits == DOCUMENTED
    assert emulator.config.rate_limit_window_seconds == 60


@pytest.mark.parametrize("bucket", sorted(CALLS))
def test_limit_is_per_token_and_per_endpoint(
    emulator: EmulatorHandle, api: Callable[..., Api], bucket: str
) -> None:
    limit = DOCUMENTED[bucket]
    client = api("creator_private")
    call = CALLS[bucket]
    statuses = [call(client).status_code for _ in range(limit)]
    assert 429 not in statuses, statuses
    limited = call(client)
    assert (limited.status_code, error_code(limited)) == (429, "rate_limit_exceeded")
    assert limited.json()["error"]["log_id"] == limited.headers["x-tt-logid"]
    # Another endpoint on the same token has its own budget...
    other = "status" if bucket != "status" else "creator_info"
    assert CALLS[other](client).status_code != 429
    # ...so has another token of the same user...
    assert call(api("creator_private")).status_code != 429
    # ...and the window slides on the emulator clock.
    emulator.advance(30)
    assert call(client).status_code == 429
    emulator.advance(31)
    assert call(client).status_code != 429


def test_limits_are_configurable(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(rate_limits={"creator_info": 2})
    assert emulator.config.rate_limits["status"] == 30  # a patch merges
    client = api("creator_public")
    assert [client.creator_info().status_code for _ in range(3)] == [200, 200, 429]


def test_refused_requests_are_not_counted(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(rate_limits={"creator_info": 2})
    client = api("creator_public")
    assert [client.creator_info().status_code for _ in range(5)] == [200, 200, 429, 429, 429]
    emulator.advance(61)
    assert [client.creator_info().status_code for _ in range(3)] == [200, 200, 429]


def test_refusals_are_counted_per_bucket_until_reset(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    # The admin state says how often clients went over a limit (`make bench`: 429s per 100 posts). A 429
    # armed as a fault is not a limit refusal and is not counted.
    emulator.configure(rate_limits={"creator_info": 1})
    client = api("creator_public")
    emulator.fault("status", "429")
    assert [client.creator_info().status_code for _ in range(3)] == [200, 429, 429]
    assert client.status("v_pub_file~v2-1.0").status_code == 429

    assert emulator.rate_limited() == {"creator_info": 2}
    state = requests.get(f"{emulator.base_url}/_admin/state", timeout=TIMEOUT).json()
    assert state["rate_limited"] == {"creator_info": 2}
    emulator.reset()
    assert emulator.rate_limited() == {}
