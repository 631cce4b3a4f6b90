"""Why the metrics of a post or an account cannot be given now: each a stable code the API maps to HTTP."""

from __future__ import annotations

from tiktok_publisher.domain.errors import Conflict, DomainError


class MetricsDisabled(DomainError):
    """The operator has not enabled metrics (template parameter MetricsEnabled)."""

    status_code = 403
    code = "metrics_disabled"


class ReconnectToGrant(Conflict):
    """The account was connected without the scope these reads need: only a new connection can grant it."""

    code = "reconnect_to_grant"


class PostNotPublished(Conflict):
    """Only a published post has counts."""

    code = "post_not_published"


class PostNotPublic(Conflict):
    """TikTok gives counts only for public videos."""

    code = "post_not_public"


class VideoIdPending(Conflict):
    """TikTok has not given the post its public video id yet (it does after moderation)."""

    code = "video_id_pending"


class MetricsPending(Conflict):
    """No reading yet, and TikTok may not be asked again before `next_read_at`."""

    code = "metrics_pending"
