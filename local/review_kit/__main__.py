"""python -m review_kit: record the app-review pack against a local stack of its own."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .kit import KitOptions, run
from .screencast import VideoToolMissing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review_kit", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=Path("review-kit"), help="output folder (default review-kit/)"
    )
    parser.add_argument(
        "--pace", type=float, default=1.0, help="scale of the pauses for the viewer (0 = none)"
    )
    parser.add_argument("--format", choices=["mp4", "webm"], default="mp4", dest="video_format")
    parser.add_argument("--audited", action="store_true", help="record as an audited app (public posts)")
    parser.add_argument("--public-url", help="the deployed API's base URL, for the checklist's URLs")
    parser.add_argument("--company", help="company name on the legal pages and in the checklist")
    parser.add_argument("--contact-email", help="contact address on the legal pages")
    parser.add_argument("--product-url", help="your product's URL, for the checklist")
    parser.add_argument("--fps", type=int, default=25, help="frames per second of the video (default 25)")
    parser.add_argument("--keep-frames", action="store_true", help="keep the screencast frames (.frames/)")
    args = parser.parse_args(argv)
    if args.pace < 0:
        parser.error("--pace must be 0 or more")
    if not 1 <= args.fps <= 60:
        parser.error("--fps must be between 1 and 60")
    options = KitOptions(
        out_dir=args.out,
        pace=args.pace,
        video_format=args.video_format,
        audited=args.audited,
        account="creator_public" if args.audited else "creator_private",
        public_url=args.public_url,
        company_name=args.company,
        contact_email=args.contact_email,
        product_url=args.product_url,
        keep_frames=args.keep_frames,
        fps=args.fps,
    )
    try:
        result = run(options)
    except VideoToolMissing as exc:
        print(f"review-kit: {exc}", file=sys.stderr)
        return 2
    info = result.video_info
    print(f"review kit written to {result.out_dir}/")
    print(
        f"  video       {result.video.name}: {info.duration:.1f} s, {info.width}x{info.height} {info.codec}"
    )
    print(f"  screenshots {len(result.screenshots)} in screenshots/")
    print(f"  checklist   {result.checklist.name}")
    timings = ", ".join(f"{k.removesuffix('_seconds')} {v:.0f} s" for k, v in result.timings.items())
    print(f"  took        {timings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
