"""`python -m tiktok_publisher.cli`: the operator's go-live tool (entrypoints/cli.py; docs/go-live.md)."""

from __future__ import annotations

import sys

from tiktok_publisher.entrypoints.cli import main

if __name__ == "__main__":
    sys.exit(main())
