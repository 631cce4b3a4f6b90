"""Every chunk plan we make is one TikTok accepts: hypothesis over 1 byte .. 4 GB, checked by the emulator.

The pure property tests (tests/unit/publishing) check the plan against the written rules; this one sends
the plan's source_info to the emulator's FILE_UPLOAD init over HTTP, whose own arithmetic checks follow
TIKTOK-API.md §5 independently of our planner.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tiktok_emulator.testing import EmulatorHandle
from tiktok_publisher.adapters.tiktok_client import TikTokClient
from tiktok_publisher.domain.chunks import MAX_VIDEO_SIZE, plan_chunks


@pytest.fixture
def tiktok(emulator: EmulatorHandle) -> tuple[TikTokClient, str]:
    # Hundreds of inits from one token: lift the per-minute and pending-draft caps for this test only.
    emulator.configure(rate_limits={"inbox_init": 100_000}, pending_draft_cap=100_000)
    config = emulator.config
    client = TikTokClient(emulator.base_url, client_key=config.client_key, client_secret=config.client_secret)
    return client, emulator.issue_token("creator_public")["access_token"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(min_value=1, max_value=MAX_VIDEO_SIZE))
@example(size=1)
@example(size=5 * 1024 * 1024 - 1)
@example(size=5 * 1024 * 1024)
@example(size=50_000_123)
@example(size=64_000_000)
@example(size=128_000_000)
@example(size=1_000_000_001)
@example(size=MAX_VIDEO_SIZE)
def test_every_plan_is_accepted_by_tiktok_init(tiktok: tuple[TikTokClient, str], size: int) -> None:
    client, token = tiktok
    plan = plan_chunks(size)

    result = client.init_video(token, inbox=True, post_info=None, source_info=plan.source_info())

    assert result.publish_id
    assert result.upload_url
