"""What TikTok accepts as media (TIKTOK-API.md §4-§5), checked against what the probe read. Pure.

Readings of TikTok's loose units, each the safer one:
- "4 GB" video = 4,000,000,000 bytes (tiktok.chunks.MAX_VIDEO_SIZE); "20 MB" photo = 20,000,000 bytes.
- Photo "1080p" = the image fits a 1920x1080 frame in either orientation: longest side <= 1920 AND shortest
  side <= 1080. That implies every other plausible reading (<= 2,073,600 pixels, longest side <= 1920), so
  a photo we accept cannot be refused for its size whichever one TikTok applies.
- 23-60 fps and 360-4096 px are inclusive; fps is compared with a small tolerance for 23.976 / 59.94 style
  rates. Unknown duration or frame rate (e.g. a WebM without DefaultDuration) is not refused here: TikTok
  checks it again and a failure comes back as a fix_media status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tiktok_publisher.domain.chunks import MAX_VIDEO_SIZE
from tiktok_publisher.domain.problems import Loc, Problem

VIDEO_CONTAINERS = frozenset({"mp4", "mov", "webm"})
VIDEO_CODECS = frozenset({"h264", "h265", "vp8", "vp9"})
MIN_FPS, MAX_FPS = 23.0, 60.0
FPS_TOLERANCE = 0.01
MIN_SIDE, MAX_SIDE = 360, 4096
API_MAX_DURATION_S = 600  # TikTok's API ceiling; a creator's own max may be lower

PHOTO_FORMATS = frozenset({"jpeg", "webp"})
PHOTO_MAX_BYTES = 20_000_000
PHOTO_MAX_LONG_SIDE, PHOTO_MAX_SHORT_SIDE = 1920, 1080

CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}

_CODEC_NAMES = {"h264": "H.264", "h265": "H.265 (HEVC)", "vp8": "VP8", "vp9": "VP9", "av1": "AV1"}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the probe read from a video. ``container``: mp4 | mov | webm | mkv; ``codec``: h264 | h265 | vp8 |
    vp9 | av1 | mpeg4 | ... (else the raw fourcc / CodecID, lower-cased). Width/height are display dims."""

    container: str
    codec: str
    width: int
    height: int
    duration_s: float | None
    fps: float | None
    size_bytes: int | None = None

    def record(self) -> dict[str, Any]:
        """What a post stores of the probe (its `source.probe`), without the size it records apart."""
        return {
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
            "fps": self.fps,
        }

    @property
    def content_type(self) -> str | None:
        """The Content-Type of the chunk PUTs (§5), None for a container TikTok does not take."""
        return CONTENT_TYPES.get(self.container)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the probe read from a photo: ``format`` jpeg | webp, pixel dimensions and byte size."""

    format: str
    width: int
    height: int
    size_bytes: int | None = None


def check_video(
    info: MediaInfo,
    *,
    max_duration_s: float | None = None,
    loc: Loc = ("media",),
) -> list[Problem]:
    """Everything TikTok would refuse about this video, as problems under ``loc`` (empty list: acceptable).

    ``max_duration_s`` is the creator's max_video_post_duration_sec when known; TikTok's 600 s ceiling applies
    either way.
    """
    problems: list[Problem] = []
    if info.container not in VIDEO_CONTAINERS:
        problems.append(
            Problem(
                (*loc, "container"),
                f"TikTok accepts MP4, MOV or WebM videos, not {info.container.upper()}. "
                "Export it as MP4 (H.264) and try again.",
                "unsupported_container",
            )
        )
    if info.codec not in VIDEO_CODECS:
        name = _CODEC_NAMES.get(info.codec, info.codec)
        problems.append(
            Problem(
                (*loc, "codec"),
                f"TikTok accepts H.264, H.265, VP8 or VP9 video, not {name}. "
                "Export it as MP4 (H.264) and try again.",
                "unsupported_codec",
            )
        )
    for side, value in (("width", info.width), ("height", info.height)):
        if not MIN_SIDE <= value <= MAX_SIDE:
            problems.append(
                Problem(
                    (*loc, side),
                    f"The video is {info.width}x{info.height} pixels; TikTok needs {MIN_SIDE} to {MAX_SIDE} "
                    "pixels on each side. Resize it (for example to 1080x1920) and try again.",
                    "picture_size",
                )
            )
    if info.fps is not None and not (MIN_FPS - FPS_TOLERANCE <= info.fps <= MAX_FPS + FPS_TOLERANCE):
        problems.append(
            Problem(
                (*loc, "fps"),
                f"The video runs at {info.fps:g} frames per second; TikTok accepts 23 to 60. "
                "Export it at 30 fps and try again.",
                "frame_rate",
            )
        )
    limit = float(API_MAX_DURATION_S if max_duration_s is None else min(max_duration_s, API_MAX_DURATION_S))
    if info.duration_s is not None:
        if info.duration_s <= 0:
            problems.append(
                Problem((*loc, "duration_s"), "The video has no duration (no frames).", "duration")
            )
        elif info.duration_s > limit:
            problems.append(
                Problem(
                    (*loc, "duration_s"),
                    f"The video lasts {info.duration_s:.1f} s; this TikTok account can post at most "
                    f"{limit:g} s. "
                    "Trim it and try again.",
                    "duration",
                )
            )
    if info.size_bytes is not None and info.size_bytes > MAX_VIDEO_SIZE:
        problems.append(
            Problem(
                (*loc, "size_bytes"),
                f"The video is {info.size_bytes / 1e9:.2f} GB; TikTok accepts at most 4 GB. "
                "Export it at a lower bitrate and try again.",
                "file_size",
            )
        )
    return problems


def check_photo(info: ImageInfo, *, loc: Loc = ("media",)) -> list[Problem]:
    """Everything TikTok would refuse about this photo (JPEG/WebP, fits 1920x1080, <= 20 MB)."""
    problems: list[Problem] = []
    if info.format not in PHOTO_FORMATS:
        problems.append(
            Problem(
                (*loc, "format"),
                f"TikTok accepts JPEG or WebP photos, not {info.format.upper()}. "
                "Save it as JPEG and try again.",
                "unsupported_format",
            )
        )
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > PHOTO_MAX_LONG_SIDE or short_side > PHOTO_MAX_SHORT_SIDE or short_side < 1:
        problems.append(
            Problem(
                (*loc, "dimensions"),
                f"The photo is {info.width}x{info.height} pixels; TikTok accepts up to 1080p. "
                "Resize it to fit within 1920x1080 (or 1080x1920) and try again.",
                "picture_size",
            )
        )
    if info.size_bytes is not None and info.size_bytes > PHOTO_MAX_BYTES:
        problems.append(
            Problem(
                (*loc, "size_bytes"),
                f"The photo is {info.size_bytes / 1e6:.1f} MB; TikTok accepts at most 20 MB. "
                "Save it at a lower quality and try again.",
                "file_size",
            )
        )
    return problems


@dataclass(frozen=True)
class ObjectInfo:
    """A stored media object: key, size, Content-Type and user metadata (what a HEAD tells)."""

    key: str
    size: int
    content_type: str | None
    metadata: dict[str, str] = field(default_factory=dict)
