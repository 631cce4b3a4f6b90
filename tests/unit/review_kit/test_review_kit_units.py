"""The review kit's pure parts: the ffconcat timing of screencast frames, and the checklist filled from the
committed template."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_kit.checklist import GUIDELINES, ChecklistValues, fill, template_text
from review_kit.flow import Step
from review_kit.screencast import Frame, concat_list, without
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.legal.pages import scope_purposes


def test_each_frame_stays_on_screen_until_the_next_one():
    # Given frames captured only when the page repainted (a still page sends none)
    frames = [Frame(Path(f"/f/frame-{i}.jpg"), t) for i, t in enumerate([100.0, 100.04, 103.5])]

    # When the ffconcat script is built for a recording that stopped at 105.0
    script = concat_list(frames, end=105.0)

    # Then each frame lasts until the next, the last until the end, and the last file is repeated
    # (the concat demuxer ignores the final entry's duration)
    assert script.splitlines() == [
        "ffconcat version 1.0",
        "file 'frame-0.jpg'", "duration 0.040000",
        "file 'frame-1.jpg'", "duration 3.460000",
        "file 'frame-2.jpg'", "duration 1.500000",
        "file 'frame-2.jpg'",
    ]  # fmt: skip


def test_a_recording_without_frames_is_an_error():
    with pytest.raises(ValueError, match="no frames"):
        concat_list([], end=1.0)


def _steps() -> list[Step]:
    keys = ["sign-in", "composer", "privacy", "published"]
    return [
        Step(i + 1, k, k.title(), f"caption | {k}", i * 30.5, f"{i + 1:02d}-{k}.png")
        for i, k in enumerate(keys)
    ]


def _values(**change) -> ChecklistValues:
    values = {
        "company_name": "Acme Social Ltd", "product_url": "https://app.acme.example",
        "privacy_url": "https://api.acme.example/legal/privacy", "terms_url": "https://api.acme.example/legal/terms",
        "redirect_uri": "https://api.acme.example/v1/oauth/tiktok/callback",
        "webhook_url": "https://api.acme.example/v1/webhooks/tiktok",
        "scopes": scope_purposes(DEFAULT_SCOPES),
        "data_retention": "post history 365 days", "audited": False, "pull_prefix": None, "local": False,
        "generated_at": "2026-03-01 10:00 UTC", "video_file": "review-demo.mp4", "video_duration": 74.04,
        "video_bytes": 1_234_567, "video_codec": "h264", "video_resolution": "1280x800",
    }  # fmt: skip
    values.update(change)
    return ChecklistValues(**values)


def test_checklist_lists_urls_scopes_steps_and_guidelines():
    text = fill(template_text(), _values(), _steps())

    assert "$" not in text
    assert not text.startswith("<!--")  # the template's note to its editors stays out
    assert "Privacy policy URL: https://api.acme.example/legal/privacy" in text
    assert "redirect URI `https://api.acme.example/v1/oauth/tiktok/callback`" in text
    assert "callback URL `https://api.acme.example/v1/webhooks/tiktok`" in text
    for scope, why in scope_purposes(DEFAULT_SCOPES):
        assert f"| `{scope}` | {why} |" in text
    assert "`review-demo.mp4` (74.0 s, 1.2 MB, h264 1280x800)" in text
    # A pipe in a caption cannot break the table
    assert "| 01:01 | 3. Privacy | caption \\| privacy | `screenshots/03-privacy.png` |" in text
    assert "| Privacy chosen from the creator's options, no default | 01:01 (step 3) |" in text
    assert "| Declaration with the Music Usage Confirmation above Publish | not in this recording |" in text
    assert len(GUIDELINES) == 8
    assert "FILE_UPLOAD only" in text
    assert "posts only SELF_ONLY to private accounts" in text
    assert "local stack's" not in text


def test_checklist_of_a_local_recording_says_its_urls_are_local():
    text = fill(
        template_text(), _values(local=True, audited=True, pull_prefix="https://media.acme.example/v/"), []
    )

    assert "These URLs are the **local stack's**" in text
    assert "PULL_FROM_URL from the verified prefix `https://media.acme.example/v/`" in text
    assert "The app is audited" in text


def test_frames_painted_while_the_overlay_was_hidden_for_a_screenshot_stay_out_of_the_video():
    frames = [Frame(Path(f"/f/{i}.jpg"), t) for i, t in enumerate([10.0, 10.5, 10.52, 10.61, 10.7, 12.0])]

    kept = without(frames, [(10.45, 10.6)])

    # 10.61 is within the margin after the window: a late paint of the hidden state is dropped too
    assert [f.timestamp for f in kept] == [10.0, 10.7, 12.0]
    assert without(frames, []) == frames
