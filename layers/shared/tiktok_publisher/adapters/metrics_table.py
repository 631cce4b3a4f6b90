"""MetricsHistoryRepository: the MetricsHistory table, readings of posts and accounts kept for charts.

One item per reading: `series` ("{tenant_id}#post#{post_id}" or "{tenant_id}#account#{open_id}") and `at`
(epoch seconds) as keys, the counts, and `expires_at`, the table's TTL attribute, so DynamoDB deletes a point
after the history period without a job of ours. Points are written in batches (BatchWriteItem, 25 a call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import PynamoDBException

from tiktok_publisher.adapters.dynamodb import MetricsHistoryModel, StoreError
from tiktok_publisher.domain.metrics import HistoryPoint

MAX_PAGE = 1000


def _point(item: MetricsHistoryModel) -> HistoryPoint:
    raw = item.counts.as_dict() if hasattr(item.counts, "as_dict") else dict(item.counts or {})
    return HistoryPoint(
        series=item.series,
        at=int(item.at),
        counts={k: int(v) for k, v in raw.items()},
        expires_at=int(item.expires_at),
    )


class MetricsHistoryRepository:
    """ports.MetricsHistory on DynamoDB."""

    def add(self, points: Sequence[HistoryPoint]) -> None:
        """Write every point (a point read again at the same second replaces itself)."""
        if not points:
            return
        try:
            with MetricsHistoryModel.batch_write() as batch:
                for point in points:
                    batch.save(
                        MetricsHistoryModel(
                            point.series,
                            int(point.at),
                            counts={k: int(v) for k, v in point.counts.items()},
                            expires_at=int(point.expires_at),
                        )
                    )
        except PynamoDBException as exc:
            raise StoreError.wrap("write metrics history", exc) from None

    def read(self, series: str, *, since: int, limit: int) -> tuple[list[HistoryPoint], int | None]:
        """Points of `series` at or after `since`, oldest first; the `since` of the next page, or None."""
        size = max(1, min(int(limit), MAX_PAGE))
        try:
            result = MetricsHistoryModel.query(
                series, MetricsHistoryModel.at >= int(since), limit=size + 1, page_size=size + 1
            )
            items: list[Any] = list(result)
        except PynamoDBException as exc:
            raise StoreError.wrap("read metrics history", exc) from None
        points = [_point(item) for item in items[:size]]
        following = int(items[size].at) if len(items) > size else None
        return points, following
