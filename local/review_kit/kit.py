"""Build the review pack: boot the local stack, record the reviewer flow in headless chromium, encode the
video, write the screenshots, the filled checklist and a manifest under one folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import ViewportSize, sync_playwright

from local_stack import LocalStack
from local_stack.stack import CALLBACK_PATH, WEBHOOK_PATH
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.legal.pages import scope_purposes

from . import checklist, screencast
from .flow import ReviewerFlow, Step, Target, sign_in_local

CHROMIUM = "/usr/bin/chromium"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Creator avatars point at TikTok's CDN, whose names resolve nowhere offline: fail them at once (the console
# shows initials) instead of waiting on DNS.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--host-resolver-rules=MAP *.tiktokcdn.com ~NOTFOUND, MAP *.tiktokcdn-us.com ~NOTFOUND",
]  # fmt: skip
PRIVACY_LABEL = {True: "Everyone", False: "Only me"}


@dataclasses.dataclass(frozen=True)
class KitOptions:
    """What `python -m review_kit` takes."""

    out_dir: Path = Path("review-kit")
    pace: float = 1.0
    video_format: str = "mp4"
    audited: bool = False
    account: str = "creator_private"
    public_url: str | None = None
    # What the legal pages say (the stack's CompanyName, ContactEmail, ProductUrl); None keeps the local
    # stack's own values.
    company_name: str | None = None
    contact_email: str | None = None
    product_url: str | None = None
    keep_frames: bool = False
    fps: int = screencast.FPS


@dataclasses.dataclass(frozen=True)
class KitResult:
    """Where everything went, and what ffprobe read from the video."""

    out_dir: Path
    video: Path
    video_info: screencast.VideoInfo
    frame_times: list[float]  # capture time of each screencast frame, seconds from the start
    steps: list[Step]
    screenshots: list[Path]
    checklist: Path
    timings: dict[str, float]


def sample_video(path: Path, seconds: int = 6) -> Path:
    """A real H.264 portrait video (ffmpeg's test pattern) for the composer to preview and upload."""
    ffmpeg, _ = screencast.require_tools()
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
               "-i", f"testsrc2=size=720x1280:rate=30:duration={seconds}",
               "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
               str(path)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return path


def run(options: KitOptions) -> KitResult:
    """Boot a local stack of its own (its emulator's caps are not shared with anyone) and record."""
    screencast.require_tools()
    started = time.monotonic()
    overrides = {"AppAudited": "true"} if options.audited else {}
    for parameter, value in (
        ("CompanyName", options.company_name),
        ("ContactEmail", options.contact_email),
        ("ProductUrl", options.product_url),
    ):
        if value:
            overrides[parameter] = value
    with LocalStack(quiet=True, schedule_interval=0, parameter_overrides=overrides) as stack:
        boot = time.monotonic() - started
        result = record(stack, options)
    result.timings["boot_seconds"] = round(boot, 1)
    result.timings["total_seconds"] = round(time.monotonic() - started, 1)
    _write_manifest(result, options)
    return result


def record(stack: Any, options: KitOptions) -> KitResult:
    """Record the flow on a running local stack; write everything under options.out_dir."""
    out = options.out_dir.resolve()
    shots = out / "screenshots"
    frames_dir = out / ".frames"
    for stale in (shots, frames_dir):
        shutil.rmtree(stale, ignore_errors=True)
    shots.mkdir(parents=True)
    if options.audited:
        requests.post(
            f"{stack.emulator_url}/_admin/config", json={"audited": True}, timeout=10
        ).raise_for_status()
    video_in = sample_video(out / "sample-upload.mp4")
    console = f"{stack.gateway_url}/"
    target = Target(
        console_url=console,
        consent_url_prefix=f"{stack.tiktok_auth_base}/v2/auth/authorize/",
        account=options.account,
        privacy_label=PRIVACY_LABEL[options.audited],
        video=video_in,
    )
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
            context.set_default_timeout(30_000)
            page = context.new_page()
            flow = ReviewerFlow(page, target, screenshots=shots, pace=options.pace, sign_in=sign_in_local)
            flow.show.install()
            page.goto(console)
            cast = screencast.Screencast(page, frames_dir, width=VIEWPORT["width"], height=VIEWPORT["height"])
            cast.start()
            flow.begin(cast.started_at)
            steps = flow.run()
            flow.show.hold(1.0)
            frames = screencast.without(cast.stop(), flow.offscreen)
        finally:
            browser.close()
    timings["record_seconds"] = round(time.monotonic() - t0, 1)
    t1 = time.monotonic()
    video = screencast.assemble(
        frames, cast.stopped_at, out / f"review-demo.{options.video_format}", fps=options.fps
    )
    info = screencast.probe(video)
    timings["encode_seconds"] = round(time.monotonic() - t1, 1)
    if not options.keep_frames:
        shutil.rmtree(frames_dir, ignore_errors=True)
    video_in.unlink(missing_ok=True)
    result = KitResult(
        out_dir=out,
        video=video,
        video_info=info,
        frame_times=[round(f.timestamp - cast.started_at, 3) for f in frames],
        steps=steps,
        screenshots=sorted(shots.glob("*.png")),
        checklist=out / "CHECKLIST.md",
        timings=timings,
    )
    result.checklist.write_text(
        checklist.fill(checklist.template_text(), _values(stack, options, result), steps)
    )
    _write_manifest(result, options)
    return result


def _values(stack: Any, options: KitOptions, result: KitResult) -> checklist.ChecklistValues:
    base = (options.public_url or stack.gateway_url).rstrip("/")
    params = getattr(stack, "params", {}) or {}
    days = params.get("DataRetentionDays", "365")
    return checklist.ChecklistValues(
        company_name=params.get("CompanyName") or options.company_name or "(CompanyName)",
        product_url=options.product_url or params.get("ProductUrl") or f"{base}/",
        privacy_url=f"{base}/legal/privacy",
        terms_url=f"{base}/legal/terms",
        redirect_uri=base + CALLBACK_PATH,
        webhook_url=base + WEBHOOK_PATH,
        scopes=scope_purposes(DEFAULT_SCOPES),
        data_retention=f"post history {days} days",
        audited=options.audited,
        pull_prefix=params.get("MediaPullBaseUrl") or None,
        local=options.public_url is None,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        video_file=result.video.name,
        video_duration=result.video_info.duration,
        video_bytes=result.video.stat().st_size,
        video_codec=result.video_info.codec,
        video_resolution=f"{result.video_info.width}x{result.video_info.height}",
    )


def _write_manifest(result: KitResult, options: KitOptions) -> None:
    manifest = {
        "video": result.video.name,
        "duration_seconds": round(result.video_info.duration, 2),
        "resolution": f"{result.video_info.width}x{result.video_info.height}",
        "codec": result.video_info.codec,
        "screencast_frames": len(result.frame_times),
        "video_frames": result.video_info.frames,
        "pace": options.pace,
        "fps": options.fps,
        "audited": options.audited,
        "steps": [dataclasses.asdict(s) for s in result.steps],
        "screenshots": [p.name for p in result.screenshots],
        "timings": result.timings,
    }
    (result.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
