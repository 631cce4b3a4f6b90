"""dispatch: every minute, enqueue the scheduled posts whose publish_at has come (DESIGN.md §5.5)."""

from tiktok_publisher.entrypoints.dispatch import lambda_handler

__all__ = ["lambda_handler"]
