"""The app-review pack: the reviewer flow recorded as a video from DevTools screencast frames (assembled with
Debian's ffmpeg), screenshots of each step and a filled review checklist, all under review-kit/.

    python -m review_kit --out review-kit          # or: make review-kit
"""
