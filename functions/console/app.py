"""console: serves the reference publishing console (the static files in ./static) under a strict CSP."""

from pathlib import Path

from tiktok_publisher.entrypoints.console import StaticSite

lambda_handler = StaticSite(Path(__file__).resolve().parent / "static").handle
