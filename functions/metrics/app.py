"""metrics: the metrics API and the snapshot schedule of posts and accounts (docs/metrics.md)."""

from tiktok_publisher.entrypoints.metrics import lambda_handler

__all__ = ["lambda_handler"]
