"""The metrics API's logic: a post's counts, an account's stats, and their history (docs/metrics.md).

A GET answers the latest stored reading while the item's interval runs (`fresh: false`); once it has passed,
the GET claims the item (one conditional write) and reads TikTok itself (`fresh: true`). So TikTok is asked
about an item at most once per interval, whether by the API or by the snapshot schedule, and a dashboard
polling the API costs TikTok nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_publisher.domain.accounts import Account, require_active
from tiktok_publisher.domain.errors import UpstreamError
from tiktok_publisher.domain.metrics import (
    USER_INFO_STATS,
    VIDEO_LIST,
    ItemKind,
    is_due,
    may_have_public_video,
    series_key,
)
from tiktok_publisher.domain.posts import Post, PostStatus, iso_epoch
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.metrics.errors import (
    MetricsDisabled,
    MetricsPending,
    PostNotPublic,
    PostNotPublished,
    ReconnectToGrant,
    VideoIdPending,
)
from tiktok_publisher.metrics.reads import SCOPE_CODES, Reads, served_nothing
from tiktok_publisher.metrics.views import (
    AccountStatsHistory,
    AccountStatsView,
    PostMetricsHistory,
    PostMetricsView,
    account_history_view,
    account_stats_view,
    post_history_view,
    post_metrics_view,
)
from tiktok_publisher.observability import logger

HISTORY_PAGE = 500


@dataclass
class MetricsService:
    reads: Reads

    # ------------------------------------------------------------------ posts

    def post_metrics(self, tenant_id: str, post_id: str) -> PostMetricsView:
        """The post's counts: stored while its interval runs, else read from TikTok now."""
        self._require_enabled()
        r = self.reads
        now = r.now()
        post = r.posts.get(tenant_id, post_id)  # 404 for another tenant's post
        _require_readable(post)
        account = r.accounts.get(tenant_id, post.open_id)
        _require_scope(account, VIDEO_LIST, "the post's view, like, comment and share counts")
        if not is_due(post.metrics_next_at, now):
            return _stored_post(post)
        require_active(account)
        next_at = now + r.policy.post_interval_s
        if not r.post_metrics.claim_metrics_read(post, next_at=next_at):
            return _stored_post(r.posts.get(tenant_id, post_id))  # another reader has just claimed it

        def read(token: str) -> tuple[list[str], dict[str, Any] | None]:
            ids = r.resolve_ids(token, post, now=now)
            return ids, (r.read_posts(token, [(post, ids)], now=now)[post.post_id] if ids else None)

        try:
            # A token TikTok refuses before its stated expiry is replaced once (forced refresh), as for
            # every TikTok call (refresh/core.py); the second answer stands.
            ids, reading = r.tokens.call_with_token(tenant_id, post.open_id, read, now=now)
        except TikTokError as exc:
            if served_nothing(exc):
                r.post_metrics.release_metrics_claim(post, claimed_next_at=next_at)
            raise _refused(exc, VIDEO_LIST) from None
        except Exception:
            # No token: TikTok was not asked.
            r.post_metrics.release_metrics_claim(post, claimed_next_at=next_at)
            raise
        if not ids:
            raise VideoIdPending(
                "TikTok has not given this post its public video id yet: it does so once the post has "
                "been reviewed. Ask again later.",
                details={"next_read_at": iso_epoch(next_at)},
            )
        if reading is None:
            raise PostNotPublic(
                "TikTok returns no public video for this post: it is not (or no longer) public.",
                details={"video_ids": ids},
            )
        return post_metrics_view(post.post_id, post.open_id, reading, fresh=True, next_at=next_at)

    def post_history(self, tenant_id: str, post_id: str, *, since: int, limit: int) -> PostMetricsHistory:
        """The post's stored readings from `since` on, oldest first."""
        self._require_enabled()
        post = self.reads.posts.get(tenant_id, post_id)  # 404 for another tenant's post
        points, following = self.reads.history.read(
            series_key(tenant_id, ItemKind.POST, post.post_id), since=since, limit=limit
        )
        return post_history_view(post.post_id, points, following)

    # ------------------------------------------------------------------ accounts

    def account_stats(self, tenant_id: str, open_id: str) -> AccountStatsView:
        """The account's counts: stored while its interval runs, else read from TikTok now."""
        self._require_enabled()
        r = self.reads
        now = r.now()
        account = r.accounts.get(tenant_id, open_id)  # 404 for another tenant's account
        _require_scope(account, USER_INFO_STATS, "the account's follower, like and video counts")
        if not is_due(account.stats_next_at, now):
            return _stored_account(account)
        require_active(account)
        next_at = now + r.policy.account_interval_s
        if not r.account_stats.claim_stats_read(account, next_at=next_at):
            return _stored_account(r.accounts.get(tenant_id, open_id))
        try:
            reading = r.tokens.call_with_token(
                tenant_id, open_id, lambda token: r.read_account(token, account, now=now), now=now
            )
        except TikTokError as exc:
            if served_nothing(exc):
                r.account_stats.release_stats_claim(account, claimed_next_at=next_at)
            raise _refused(exc, USER_INFO_STATS) from None
        except Exception:
            r.account_stats.release_stats_claim(
                account, claimed_next_at=next_at
            )  # no token: TikTok not asked
            raise
        return account_stats_view(open_id, reading, fresh=True, next_at=next_at)

    def account_history(self, tenant_id: str, open_id: str, *, since: int, limit: int) -> AccountStatsHistory:
        """The account's stored readings from `since` on, oldest first."""
        self._require_enabled()
        account = self.reads.accounts.get(tenant_id, open_id)
        points, following = self.reads.history.read(
            series_key(tenant_id, ItemKind.ACCOUNT, account.open_id), since=since, limit=limit
        )
        return account_history_view(account.open_id, points, following)

    def _require_enabled(self) -> None:
        if not self.reads.policy.enabled:
            raise MetricsDisabled(
                "Metrics are not enabled for this service (the operator's MetricsEnabled setting)."
            )


def _require_readable(post: Post) -> None:
    if post.status != PostStatus.PUBLISHED:
        raise PostNotPublished(
            f"The post is {post.status}; TikTok has counts only for published posts.",
            details={"status": str(post.status)},
        )
    if not may_have_public_video(post.mode, post.post_info, post.post_ids):
        raise PostNotPublic(
            "TikTok gives counts only for public posts, and this one was not posted to everyone.",
            details={"privacy_level": post.post_info.get("privacy_level")},
        )


def _require_scope(account: Account, scope: str, what: str) -> None:
    if scope not in account.scopes:
        raise ReconnectToGrant(
            f"This account was connected without the {scope} permission, which {what} need. Connect it "
            "again to grant it.",
            details={"missing_scopes": [scope], "open_id": account.open_id},
        )


def _stored_post(post: Post) -> PostMetricsView:
    if not post.metrics:
        _pending(post.metrics_next_at, video_id=not post.post_ids)
    assert post.metrics is not None
    return post_metrics_view(
        post.post_id, post.open_id, post.metrics, fresh=False, next_at=post.metrics_next_at
    )


def _stored_account(account: Account) -> AccountStatsView:
    if not account.stats:
        _pending(account.stats_next_at, video_id=False)
    assert account.stats is not None
    return account_stats_view(account.open_id, account.stats, fresh=False, next_at=account.stats_next_at)


def _pending(next_at: int | None, *, video_id: bool) -> None:
    details = {"next_read_at": iso_epoch(next_at)}
    if video_id:
        raise VideoIdPending(
            "TikTok has not given this post its public video id yet. Ask again after next_read_at.",
            details=details,
        )
    raise MetricsPending(
        "There is no reading yet, and TikTok is asked at most once per interval. Ask again after "
        "next_read_at.",
        details=details,
    )


def _refused(exc: TikTokError, scope: str) -> Exception:
    details: dict[str, object] = {"tiktok_code": exc.code, "log_id": exc.log_id}
    logger.warning("tiktok refused a metrics read", extra=details)
    if exc.code in SCOPE_CODES:
        return ReconnectToGrant(
            f"TikTok says this account did not grant {scope}. Connect it again to grant it.",
            details={**details, "missing_scopes": [scope]},
        )
    return UpstreamError(
        "TikTok could not give the counts right now; the last reading (if any) stays. Try again later.",
        details=details,
    )
