"""The snapshot schedule: a reading of every tracked post and account whose interval has passed.

Tracked items sit in two sparse indexes (metrics_due on Posts, stats_due on Accounts) keyed by shard and
`next_at`, so a run reads what is due and nothing else. Posts are grouped by account: one access token each
(refreshed on demand through the refresher, DESIGN.md §6), and one video query per 20 video ids. Every read
is claimed first (a conditional write of `next_at`), so a run and an API call never read the same item twice
in one interval, and each token spends at most `run_budget(endpoint)` calls per run: a quarter of TikTok's
per-minute limit, since runs never overlap (domain/metrics.py). What the run cannot read (budget, time, a
token that cannot be refreshed, TikTok refusing) stays due for the next run.

A post leaves the index when the post window is over, when it is no longer published or public, or when
TikTok stops returning its video; an account when it is no longer active or lacks user.info.stats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tiktok_publisher.domain.accounts import Account, AccountStatus
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.metrics import (
    MAX_IDS_PER_QUERY,
    METRICS_SHARDS,
    USER_INFO_STATS,
    VIDEO_LIST,
    HistoryPoint,
    may_have_public_video,
    run_budget,
    window_over,
)
from tiktok_publisher.domain.posts import Post, PostStatus
from tiktok_publisher.domain.tiktok_errors import TikTokError, token_rejected
from tiktok_publisher.metrics.reads import Reads, served_nothing
from tiktok_publisher.observability import count, logger

PAGE_SIZE = 100
# History points are written 25 at a time (BatchWriteItem's limit), whatever the accounts they belong to.
HISTORY_BATCH = 25
# A run reads at most this many due posts (then stops; the rest stays due): bounds its memory and time.
MAX_POSTS_PER_RUN = 5000
DEFAULT_RESERVE_S = 10.0


@dataclass
class SnapshotReport:
    posts_due: int = 0
    posts_read: int = 0
    ids_resolved: int = 0
    posts_untracked: int = 0
    posts_left_due: int = 0
    accounts_due: int = 0
    accounts_read: int = 0
    accounts_untracked: int = 0
    accounts_left_due: int = 0
    tiktok_calls: dict[str, int] = field(default_factory=dict)
    out_of_time: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class _Budget:
    """Calls left for one access token in this run, per endpoint."""

    left: dict[str, int] = field(
        default_factory=lambda: {e: run_budget(e) for e in ("video_query", "status", "user_info")}
    )

    def take(self, endpoint: str) -> bool:
        if self.left[endpoint] <= 0:
            return False
        self.left[endpoint] -= 1
        return True

    def stop(self, endpoint: str) -> None:
        """TikTok asked this token to slow down: no more calls to that endpoint in this run."""
        self.left[endpoint] = 0


@dataclass
class SnapshotRun:
    reads: Reads
    shards: int = METRICS_SHARDS
    reserve_s: float = DEFAULT_RESERVE_S
    budget: Callable[[], _Budget] = _Budget

    def run(self, *, now: int, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        """Read every due post and account (see the module docstring); returns what was done."""
        time_left = time_left or (lambda: float("inf"))
        report = SnapshotReport()
        calls_before = dict(self.reads.calls)
        # One token per account for the whole run (its posts and its stats), and history written in batches.
        self._tokens: dict[tuple[str, str], str] = {}
        self._points: list[HistoryPoint] = []
        groups = self._due_posts(now, report)
        for (tenant_id, open_id), posts in groups.items():
            if time_left() < self.reserve_s:
                report.out_of_time = True
                report.posts_left_due += len(posts)
                continue
            self._account_posts(tenant_id, open_id, posts, now=now, report=report)
            self._flush(full_only=True)
        self._due_accounts(now, report, time_left)
        self._flush(full_only=False)
        report.tiktok_calls = {
            k: v - calls_before.get(k, 0) for k, v in self.reads.calls.items() if v - calls_before.get(k, 0)
        }
        _measure(report)
        logger.info("metrics snapshot run", extra={"snapshots": report.as_dict()})
        return report.as_dict()

    def _flush(self, *, full_only: bool) -> None:
        """Write the history points gathered so far (only whole batches of 25 unless `full_only` is off)."""
        keep = len(self._points) % HISTORY_BATCH if full_only else 0
        ready, self._points = (
            self._points[: len(self._points) - keep],
            self._points[len(self._points) - keep :],
        )
        if ready:
            self.reads.history.add(ready)

    def _token(self, tenant_id: str, open_id: str, now: int) -> str:
        """The account's access token for this run (refreshed on demand once, then reused)."""
        key = (tenant_id, open_id)
        if key not in self._tokens:
            self._tokens[key] = self.reads.tokens.ensure_fresh_token(tenant_id, open_id, now=now)
        return self._tokens[key]

    def _replace_if_rejected(
        self, tenant_id: str, open_id: str, exc: TikTokError, refused: str, now: int
    ) -> None:
        """TikTok refused the run's token before its stated expiry: one forced refresh of exactly that token
        (shared with any other caller that saw it refused), used for the account's next reads in this run
        and stored for the next run. The refused item itself stays due."""
        key = (tenant_id, open_id)
        if not token_rejected(exc) or self._tokens.get(key) != refused:
            return  # another refusal, or the run already holds a replacement
        try:
            replaced = self.reads.tokens.replace_rejected_token(tenant_id, open_id, refused, now=now)
        except (AccountNeedsReconnect, NotFound, UpstreamError) as failure:
            logger.info("metrics: no replacement token", extra={"open_id": open_id, "why": failure.code})
            return
        self._tokens[key] = replaced

    # ------------------------------------------------------------------ posts

    def _due_posts(self, now: int, report: SnapshotReport) -> dict[tuple[str, str], list[Post]]:
        groups: dict[tuple[str, str], list[Post]] = {}
        for number in range(self.shards):
            start: dict[str, Any] | None = None
            while report.posts_due < MAX_POSTS_PER_RUN:
                page, start = self.reads.post_metrics.metrics_due_page(
                    str(number), now=now, limit=PAGE_SIZE, start=start
                )
                report.posts_due += len(page)
                for post in page:
                    groups.setdefault((post.tenant_id, post.open_id), []).append(post)
                if start is None:
                    break
        return groups

    def _account_posts(
        self, tenant_id: str, open_id: str, posts: list[Post], *, now: int, report: SnapshotReport
    ) -> None:
        r = self.reads
        live = [p for p in posts if not self._untracked(p, now, report)]
        if not live:
            return
        try:
            account = r.accounts.get(tenant_id, open_id)
        except NotFound:
            account = None
        if account is None or account.status == AccountStatus.REVOKED:
            for post in live:  # the grant is gone: nothing more will be read for these posts
                r.post_metrics.untrack_metrics(post, now=now)
            report.posts_untracked += len(live)
            return
        if account.status != AccountStatus.ACTIVE or VIDEO_LIST not in account.scopes:
            # Only a reconnection helps: wait an interval rather than meet these posts in every run.
            for post in live:
                r.post_metrics.claim_metrics_read(post, next_at=now + r.policy.post_interval_s)
            report.posts_left_due += len(live)
            return
        try:
            self._token(tenant_id, open_id, now)  # the run's token for the account, got (or refreshed) once
        except (AccountNeedsReconnect, NotFound, UpstreamError) as exc:
            logger.info("metrics: no token for the account", extra={"open_id": open_id, "why": exc.code})
            report.posts_left_due += len(live)
            return
        budget = self.budget()
        # Each call takes the run's token for the account at that moment (_token): a replacement once TikTok
        # refused the first one early.
        with_ids = self._resolve(live, budget, now=now, report=report)
        self._query(with_ids, budget, now=now, report=report)

    def _untracked(self, post: Post, now: int, report: SnapshotReport) -> bool:
        """Drop a post the schedule should follow no more (True when it was dropped)."""
        done = (
            post.status != PostStatus.PUBLISHED
            or not may_have_public_video(post.mode, post.post_info, post.post_ids)
            or window_over(post.metrics_since, now, self.reads.policy.post_window_s)
        )
        if done:
            self.reads.post_metrics.untrack_metrics(post, now=now)
            report.posts_untracked += 1
        return done

    def _resolve(
        self, posts: list[Post], budget: _Budget, *, now: int, report: SnapshotReport
    ) -> list[tuple[Post, list[str], bool]]:
        """Posts with their video ids (asking status/fetch for those without, claimed first), and whether
        each is claimed already. Posts stay as read: a release puts back the metrics_next_at they carry."""
        r = self.reads
        ready: list[tuple[Post, list[str], bool]] = []
        for post in posts:
            if post.post_ids:
                ready.append((post, list(post.post_ids), False))
                continue
            next_at = now + r.policy.post_interval_s
            if not budget.take("status"):
                report.posts_left_due += 1
                continue
            if not r.post_metrics.claim_metrics_read(post, next_at=next_at):
                continue  # an API call read it meanwhile
            live = self._token(post.tenant_id, post.open_id, now)  # a replacement, once one was needed
            try:
                ids = r.resolve_ids(live, post, now=now)
            except TikTokError as exc:
                self._refused(post, next_at, exc, budget, "status", report, token=live)
                continue
            if ids:
                report.ids_resolved += 1
                # Still the post as read (its metrics_next_at is what a release puts back), with its new ids.
                ready.append((replace(post, post_ids=ids), ids, True))
            else:
                report.posts_left_due += 1  # not reviewed yet: asked again after the interval
        return ready

    def _query(
        self,
        items: list[tuple[Post, list[str], bool]],
        budget: _Budget,
        *,
        now: int,
        report: SnapshotReport,
    ) -> None:
        r = self.reads
        next_at = now + r.policy.post_interval_s
        for batch in _id_batches(items):
            claimed: list[tuple[Post, list[str]]] = []
            for post, ids, already in batch:
                if already or r.post_metrics.claim_metrics_read(post, next_at=next_at):
                    claimed.append((post, ids))
            if not claimed:
                continue
            if not budget.take("video_query"):
                self._give_back(claimed, next_at)
                report.posts_left_due += len(claimed)
                continue
            live = self._token(claimed[0][0].tenant_id, claimed[0][0].open_id, now)
            try:
                readings = r.read_posts(live, claimed, now=now, points=self._points)
            except TikTokError as exc:
                for post, _ids in claimed:
                    self._refused(post, next_at, exc, budget, "video_query", report, token=live)
                continue
            for post, _ids in claimed:
                if readings.get(post.post_id) is None:
                    # TikTok no longer returns its video (made private or deleted): stop following it.
                    r.post_metrics.untrack_metrics(post, now=now)
                    report.posts_untracked += 1
                else:
                    report.posts_read += 1

    def _refused(
        self,
        post: Post,
        next_at: int,
        exc: TikTokError,
        budget: _Budget,
        endpoint: str,
        report: SnapshotReport,
        *,
        token: str,
    ) -> None:
        report.posts_left_due += 1
        if served_nothing(exc):
            self.reads.post_metrics.release_metrics_claim(post, claimed_next_at=next_at)
        self._replace_if_rejected(post.tenant_id, post.open_id, exc, token, self.reads.now())
        if exc.code == "rate_limit_exceeded":
            budget.stop(endpoint)
        logger.info("metrics: tiktok refused", extra={"tiktok_code": exc.code, "log_id": exc.log_id})

    def _give_back(self, claimed: Sequence[tuple[Post, list[str]]], next_at: int) -> None:
        for post, _ids in claimed:
            self.reads.post_metrics.release_metrics_claim(post, claimed_next_at=next_at)

    # ------------------------------------------------------------------ accounts

    def _due_accounts(self, now: int, report: SnapshotReport, time_left: Callable[[], float]) -> None:
        r = self.reads
        for number in range(self.shards):
            start: dict[str, Any] | None = None
            while True:
                if time_left() < self.reserve_s:
                    report.out_of_time = True
                    return
                page, start = r.account_stats.stats_due_page(
                    str(number), now=now, limit=PAGE_SIZE, start=start
                )
                report.accounts_due += len(page)
                for account in page:
                    self._account_stats(account, now=now, report=report)
                self._flush(full_only=True)
                if start is None:
                    break

    def _account_stats(self, account: Account, *, now: int, report: SnapshotReport) -> None:
        r = self.reads
        if account.status != AccountStatus.ACTIVE or USER_INFO_STATS not in account.scopes:
            r.account_stats.untrack_stats(account)  # a reconnection with the scope puts it back
            report.accounts_untracked += 1
            return
        next_at = now + r.policy.account_interval_s
        if not r.account_stats.claim_stats_read(account, next_at=next_at):
            return
        try:
            token = self._token(account.tenant_id, account.open_id, now)
        except (AccountNeedsReconnect, NotFound, UpstreamError):
            r.account_stats.release_stats_claim(account, claimed_next_at=next_at)
            report.accounts_left_due += 1
            return
        try:
            r.read_account(token, account, now=now, points=self._points)
        except TikTokError as exc:
            if served_nothing(exc):
                r.account_stats.release_stats_claim(account, claimed_next_at=next_at)
            self._replace_if_rejected(account.tenant_id, account.open_id, exc, token, now)
            report.accounts_left_due += 1
            logger.info(
                "metrics: tiktok refused stats", extra={"tiktok_code": exc.code, "log_id": exc.log_id}
            )
            return
        report.accounts_read += 1


def _id_batches(
    items: list[tuple[Post, list[str], bool]],
) -> list[list[tuple[Post, list[str], bool]]]:
    """Posts in batches whose ids fit one video query (20), in order."""
    out: list[list[tuple[Post, list[str], bool]]] = []
    current: list[tuple[Post, list[str], bool]] = []
    size = 0
    for item in items:
        ids = item[1][:MAX_IDS_PER_QUERY]
        if current and size + len(ids) > MAX_IDS_PER_QUERY:
            out.append(current)
            current, size = [], 0
        current.append((item[0], ids, item[2]))
        size += len(ids)
    if current:
        out.append(current)
    return out


def _measure(report: SnapshotReport) -> None:
    count("MetricsPostsRead", report.posts_read)
    count("MetricsAccountsRead", report.accounts_read)
    count("MetricsItemsLeftDue", report.posts_left_due + report.accounts_left_due)
