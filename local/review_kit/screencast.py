"""A video of a page from DevTools screencast frames (CDP `Page.startScreencast`), assembled with ffmpeg.

Playwright's own video recorder needs an ffmpeg build it downloads; Debian's `ffmpeg` package and the
protocol's screencast work offline. Chromium sends a frame only when the page repaints, each with its
capture time, so the frames are a variable-rate sequence: the ffconcat list gives each frame the time until
the next one, and ffmpeg renders that at a constant rate (a still page stays on screen for as long as it
was still).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FPS = 25
# Chromium's screencast timestamps are wall-clock seconds; a frame shown for less than one output frame
# is still listed (ffmpeg drops it when resampling), so nothing is lost between captures.
MIN_FRAME_SECONDS = 0.001


class VideoToolMissing(RuntimeError):
    """ffmpeg or ffprobe is not installed (Debian: `apt-get install ffmpeg`, or `make ffmpeg`)."""


@dataclasses.dataclass(frozen=True)
class Frame:
    """One screencast frame on disk and the wall-clock time Chromium captured it."""

    path: Path
    timestamp: float


def concat_list(frames: Sequence[Frame], end: float) -> str:
    """An ffconcat script showing each frame until the next one, and the last until `end`.

    The last file is listed twice because the concat demuxer ignores the duration of the final entry.
    """
    if not frames:
        raise ValueError("no frames were captured")
    lines = ["ffconcat version 1.0"]
    for frame, following in zip(frames, [*frames[1:], None], strict=True):
        until = following.timestamp if following is not None else max(end, frame.timestamp)
        lines.append(f"file '{frame.path.name}'")
        lines.append(f"duration {max(until - frame.timestamp, MIN_FRAME_SECONDS):.6f}")
    lines.append(f"file '{frames[-1].path.name}'")
    return "\n".join(lines) + "\n"


def without(
    frames: Sequence[Frame], windows: Sequence[tuple[float, float]], margin: float = 0.03
) -> list[Frame]:
    """The frames captured outside every (start, end) window, so that what happened inside them (the overlay
    hidden for a screenshot) never reaches the video: the frame before a window stays on screen through it."""
    return [
        frame
        for frame in frames
        if not any(start <= frame.timestamp <= end + margin for start, end in windows)
    ]


class Screencast:
    """Records one page through a CDP session. start(), drive the page, stop() -> the frames on disk.

    Frames arrive as events while Playwright pumps its connection (any page call or wait does); each is
    written at once and acknowledged, which is what makes Chromium send the next.
    """

    def __init__(self, page: Any, frames_dir: Path, *, width: int, height: int, quality: int = 85) -> None:
        self.page = page
        self.frames_dir = frames_dir
        self.width = width
        self.height = height
        self.quality = quality
        self.frames: list[Frame] = []
        self._lock = threading.Lock()
        self._session: Any = None
        self.started_at = 0.0
        self.stopped_at = 0.0

    def start(self) -> Screencast:
        """Begin capturing (the page must have painted something for the first frame to arrive)."""
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        self._session = self.page.context.new_cdp_session(self.page)
        self._session.on("Page.screencastFrame", self._on_frame)
        self.started_at = time.time()
        self._session.send(
            "Page.startScreencast",
            {"format": "jpeg", "quality": self.quality, "maxWidth": self.width, "maxHeight": self.height},
        )
        return self

    def _on_frame(self, event: dict[str, Any]) -> None:
        session = self._session
        if session is None:  # a frame in flight when the recording stopped
            return
        with self._lock:
            path = self.frames_dir / f"frame-{len(self.frames):06d}.jpg"
            path.write_bytes(base64.b64decode(event["data"]))
            stamp = float(event.get("metadata", {}).get("timestamp") or time.time())
            self.frames.append(Frame(path, stamp))
        session.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})

    def stop(self) -> list[Frame]:
        """Stop capturing; the frames in capture order."""
        self.stopped_at = time.time()
        session, self._session = self._session, None
        if session is not None:
            session.send("Page.stopScreencast")
            session.detach()
        with self._lock:
            return sorted(self.frames, key=lambda f: f.timestamp)


def require_tools() -> tuple[str, str]:
    """Paths of ffmpeg and ffprobe, or VideoToolMissing saying how to install them."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if not ffmpeg or not ffprobe:
        raise VideoToolMissing(
            "ffmpeg/ffprobe not found: install Debian's package (`apt-get install ffmpeg`, or `make ffmpeg`)"
        )
    return ffmpeg, ffprobe


def assemble(frames: Sequence[Frame], end: float, output: Path, *, fps: int = FPS) -> Path:
    """Encode the frames into `output` (.mp4: H.264, yuv420p, faststart; .webm: VP9) at a constant FPS.

    x264 `ultrafast`: a screen recording is mostly still pages, so the bigger file (a few MB a minute) costs
    less than `veryfast`'s 3-4x encoding time on a busy 2-core machine.
    """
    ffmpeg, _ = require_tools()
    if not frames:
        raise ValueError("no frames were captured")
    folder = frames[0].path.parent
    script = folder / "frames.ffconcat"
    script.write_text(concat_list(frames, end), encoding="utf-8")
    # Even dimensions: yuv420p (what every player, and TikTok's review form, accepts) needs them.
    filters = f"fps={fps},scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p"
    if output.suffix == ".webm":
        codec = ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "36", "-deadline", "realtime", "-cpu-used", "8"]
    else:
        codec = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-movflags", "+faststart"]
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
               "-i", str(script), "-vf", filters, *codec, "-an", str(output)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return output


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What ffprobe reads from a video file."""

    duration: float
    width: int
    height: int
    codec: str
    frames: int


def probe(path: Path) -> VideoInfo:
    """ffprobe's reading of `path` (duration from the container, frames counted by decoding)."""
    _, ffprobe = require_tools()
    command = [ffprobe, "-v", "error", "-select_streams", "v:0", "-count_frames",
               "-show_entries", "stream=codec_name,width,height,nb_read_frames:format=duration",
               "-of", "json", str(path)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffprobe could not read {path}: {result.stderr.strip()}")
    data = json.loads(result.stdout)
    stream = data["streams"][0]
    return VideoInfo(
        duration=float(data["format"]["duration"]),
        width=int(stream["width"]),
        height=int(stream["height"]),
        codec=str(stream["codec_name"]),
        frames=int(stream.get("nb_read_frames") or 0),
    )
