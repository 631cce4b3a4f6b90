"""GET /v1/posts/{post_id}/metrics[/history] and GET /v1/accounts/{open_id}/stats[/history] over the metrics
service (docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.entrypoints.http.accounts import OpenId
from tiktok_publisher.entrypoints.http.caller import CallerDep
from tiktok_publisher.entrypoints.http.docs import error_responses, ok_response
from tiktok_publisher.entrypoints.http.posts import PostId
from tiktok_publisher.metrics.views import (
    AccountStatsHistory,
    AccountStatsView,
    PostMetricsHistory,
    PostMetricsView,
)

Since = Annotated[int, Query(ge=0, description="Points read at or after this time (epoch seconds).")]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many points.")]
_DISABLED = {403: error_responses(403, e403="metrics_disabled: the operator has not enabled metrics")[403]}
_POST_409 = (
    "post_not_published, post_not_public, video_id_pending (TikTok gives the id after review), "
    "metrics_pending, reconnect_to_grant (connected without video.list) or account_needs_reconnect"
)
_ACCOUNT_409 = (
    "reconnect_to_grant (connected without user.info.stats), metrics_pending or account_needs_reconnect"
)


def register_metrics(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register the metrics routes on `app`."""

    @app.get(
        "/v1/posts/<post_id>/metrics",
        summary="A published post's view, like, comment and share counts",
        description=(
            "The counts of the post's public TikTok video(s) from TikTok's video query, with the time they "
            "were read. TikTok is asked at most once per configured interval per post (by this route or the "
            "snapshot schedule); in between, the latest reading is answered with `fresh: false`. Video ids "
            "are strings."
        ),
        tags=["Metrics"],
        responses={
            **ok_response(PostMetricsView, "The counts"),
            **_DISABLED,
            **error_responses(401, 404, 409, 502, e409=_POST_409),
        },
    )
    def post_metrics(who: CallerDep, post_id: PostId) -> PostMetricsView:
        return ports().metrics_service.post_metrics(who.tenant_id, post_id)

    @app.get(
        "/v1/posts/<post_id>/metrics/history",
        summary="A post's readings over time, for a chart",
        tags=["Metrics"],
        responses={
            **ok_response(PostMetricsHistory, "Readings, oldest first"),
            **_DISABLED,
            **error_responses(401, 404, 422),
        },
    )
    def post_metrics_history(
        who: CallerDep, post_id: PostId, since: Since = 0, limit: Limit = 500
    ) -> PostMetricsHistory:
        return ports().metrics_service.post_history(who.tenant_id, post_id, since=since, limit=limit)

    @app.get(
        "/v1/accounts/<open_id>/stats",
        summary="A connected account's follower, following, likes and video counts",
        description=(
            "From TikTok's user info (user.info.stats), with the time they were read; TikTok is asked at "
            "most once per configured interval per account, the latest reading answered in between."
        ),
        tags=["Metrics"],
        responses={
            **ok_response(AccountStatsView, "The counts"),
            **_DISABLED,
            **error_responses(401, 404, 409, 502, e409=_ACCOUNT_409),
        },
    )
    def account_stats(who: CallerDep, open_id: OpenId) -> AccountStatsView:
        return ports().metrics_service.account_stats(who.tenant_id, open_id)

    @app.get(
        "/v1/accounts/<open_id>/stats/history",
        summary="An account's readings over time, for a chart",
        tags=["Metrics"],
        responses={
            **ok_response(AccountStatsHistory, "Readings, oldest first"),
            **_DISABLED,
            **error_responses(401, 404, 422),
        },
    )
    def account_stats_history(
        who: CallerDep, open_id: OpenId, since: Since = 0, limit: Limit = 500
    ) -> AccountStatsHistory:
        return ports().metrics_service.account_history(who.tenant_id, open_id, since=since, limit=limit)
