"""console: serves the reference publishing console (the static files in ./static) under a strict CSP, and
the legal pages (an operator's own files in ./legal replace the packaged templates)."""

from pathlib import Path

from tiktok_publisher.entrypoints.console import LegalPages, StaticSite

HERE = Path(__file__).resolve().parent
lambda_handler = StaticSite(HERE / "static", legal=LegalPages(HERE / "legal")).handle
