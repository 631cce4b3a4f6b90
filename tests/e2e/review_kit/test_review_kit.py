"""`make review-kit` end to end: a local stack of its own, the reviewer flow in Debian's headless chromium,
the screencast frames encoded by Debian's ffmpeg, read back with ffprobe; the screenshots and the filled
checklist.

The pauses for the viewer are shortened (pace 0.25) and the video has 10 frames a second (25 in the kit), to
spare the test machine's CPU: everything else is what `make review-kit` runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review_kit.kit import KitOptions, run
from review_kit.screencast import probe
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.legal.pages import SCOPE_PURPOSES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FLOW = [
    "sign-in", "connect", "connected", "composer", "media", "privacy", "interactions", "disclosure",
    "declaration", "choose-privacy", "publish", "published", "disconnect", "legal",
]  # fmt: skip


@pytest.mark.timeout(420)
def test_review_kit_records_every_step(tmp_path: Path):
    # Given a fresh output folder
    out = tmp_path / "review-kit"

    # When the kit runs
    result = run(KitOptions(out_dir=out, pace=0.25, fps=10))

    # Then the flow went through every step, in order, each on screen at its own time
    assert [s.key for s in result.steps] == FLOW
    starts = [s.started for s in result.steps]
    assert starts == sorted(starts)
    # And the video is what ffprobe reads: H.264 at the page's size, as long as the recording
    info = probe(result.video)
    assert result.video == out / "review-demo.mp4"
    assert (info.codec, info.width, info.height) == ("h264", 1280, 800)
    span = result.frame_times[-1]
    assert info.duration > 20, info
    assert info.duration >= span
    assert info.frames >= int(info.duration * 10) - 2
    # And each step brought new frames to the video (the caption, at least, changed on screen)
    bounds = [*starts[1:], info.duration]
    for step, end in zip(result.steps, bounds, strict=True):
        assert any(step.started <= t < end for t in result.frame_times), f"no frame during {step.key}"
    # And the frames themselves are gone (only the video stays)
    assert not (out / ".frames").exists()

    # And a screenshot per step, named as the checklist names them
    assert [p.name for p in result.screenshots] == [s.screenshot for s in result.steps]
    for shot in result.screenshots:
        assert shot.read_bytes().startswith(b"\x89PNG")

    # And the checklist is filled: no placeholder left, every scope with its reason, the URLs, each step
    text = result.checklist.read_text()
    assert "$" not in text
    for scope in DEFAULT_SCOPES:
        assert f"| `{scope}` | {SCOPE_PURPOSES[scope]} |" in text
    for path in ("/legal/privacy", "/legal/terms", "/v1/oauth/tiktok/callback", "/v1/webhooks/tiktok"):
        assert path in text
    for step in result.steps:
        assert f"`screenshots/{step.screenshot}`" in text
    assert f"{info.duration:.1f} s" in text

    # And the manifest says what was made and how long it took
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["video"] == "review-demo.mp4"
    assert manifest["screencast_frames"] == len(result.frame_times) > len(FLOW)
    assert set(manifest["timings"]) == {"record_seconds", "encode_seconds", "boot_seconds", "total_seconds"}
