"""Operator commands, run from a shell with the deployed stack's settings:

    python -m tiktok_publisher.entrypoints.cli backfill-refresh-due [--dry-run] [--page-size N]

backfill-refresh-due  once, after upgrading to the schedule that keeps grants alive: places every active
                      account in the refresh_due index by the current rule (refresh/backfill.py), so the
                      sweep stops reading accounts keyed by their access token's end. No TikTok call, no
                      token read; safe to repeat and to run while the service runs. --dry-run counts only.

Settings come from the environment as in the functions: ACCOUNTS_TABLE (the stack's AccountsTableName
output), REFRESH_SHARDS (the stage's RefreshShards), AWS credentials and region allowed to Scan and
UpdateItem that table. The report is printed as JSON; the exit status is 0 when it finished.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tiktok_publisher.bootstrap import ports
from tiktok_publisher.refresh.backfill import DEFAULT_PAGE_SIZE, BackfillReport, backfill_refresh_due


def _progress(report: BackfillReport) -> None:
    if report.pages % 50 == 0:
        print(f"... {report.scanned} rows scanned, {report.moved} moved", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="python -m tiktok_publisher.entrypoints.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill-refresh-due", help="place every account in the refresh_due index by the current rule"
    )
    backfill.add_argument("--dry-run", action="store_true", help="count what would move; write nothing")
    backfill.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="rows per scan page")
    args = parser.parse_args(argv)
    if args.page_size < 1:
        parser.error("--page-size must be at least 1")
    wired = ports(secrets=False)  # the backfill reads no token and needs no app secret
    report = backfill_refresh_due(
        wired.refresh_keys,
        shards=wired.settings.refresh_shards,
        dry_run=args.dry_run,
        page_size=args.page_size,
        progress=_progress,
    )
    print(json.dumps({"command": args.command, **report.as_dict()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
