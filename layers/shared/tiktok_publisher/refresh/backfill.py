"""The one-off migration of the refresh_due index to the schedule that keeps grants alive (DESIGN.md §6).

A row keeps the refresh_due_at the old rule gave it (its access token's end) until its tokens are next
saved, which places it by the current rule. An account nobody posts for is not saved for months, and its
old key is long past: every sweep reads it, finds it not due by the current rule (its grant is far from its
end) and leaves it, so the sweep pays a read per such row and run. `backfill_refresh_due` places every row
right once, without a TikTok call: it scans the table, computes each active account's key with
`refresh_due_at_for` and writes it only if the row is still as read (a save in between placed it already).
Safe to run again and while the service runs; it never reads a token and never bumps a row's version (a
refresher's lease stays valid). Run by `python -m tiktok_publisher.cli backfill-refresh-due`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tiktok_publisher.domain.accounts import refresh_due_at_for, refresh_shard_for
from tiktok_publisher.domain.refresh import RefreshKeys
from tiktok_publisher.ports import RefreshKeysTable

DEFAULT_PAGE_SIZE = 200


@dataclass
class BackfillReport:
    """What the backfill saw and did (counts of rows)."""

    scanned: int = 0
    indexed: int = 0  # active with tokens: rows that belong in the index
    moved: int = 0  # written with their new place (or, in a dry run, that would be)
    unchanged: int = 0  # already in the right place
    changed_meanwhile: int = 0  # saved or refreshed while the backfill ran: placed by the current rule
    pages: int = 0
    dry_run: bool = False
    examples: list[dict[str, object]] = field(default_factory=list)  # a few moves, for the operator

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def place_of(keys: RefreshKeys, *, shards: int) -> tuple[str, int]:
    """The (shard, refresh_due_at) the current rule gives an indexed row."""
    shard = keys.refresh_shard or refresh_shard_for(keys.tenant_id, keys.open_id, shards)
    due = refresh_due_at_for(
        keys.access_expires_at, keys.refresh_expires_at, fresh_token_by=keys.fresh_token_by
    )
    return shard, due


def backfill_refresh_due(
    table: RefreshKeysTable,
    *,
    shards: int,
    dry_run: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Callable[[BackfillReport], None] | None = None,
) -> BackfillReport:
    """Place every active account in the refresh_due index by the current rule (see module docstring)."""
    report = BackfillReport(dry_run=dry_run)
    start = None
    while True:
        page = table.keys_page(start, limit=page_size)
        report.pages += 1
        for keys in page.items:
            report.scanned += 1
            if not keys.indexed:
                continue
            report.indexed += 1
            shard, due = place_of(keys, shards=shards)
            if (keys.refresh_shard, keys.refresh_due_at) == (shard, due):
                report.unchanged += 1
                continue
            if dry_run or table.set_refresh_due(keys, shard=shard, due=due):
                report.moved += 1
                if len(report.examples) < 5:
                    report.examples.append({"open_id": keys.open_id, "from": keys.refresh_due_at, "to": due})
            else:
                report.changed_meanwhile += 1
        if progress is not None:
            progress(report)
        if page.next_start is None:
            return report
        start = page.next_start
