"""refresh: the scheduled token refresh sweep and its hand-offs (DESIGN.md §6)."""

from tiktok_publisher.entrypoints.refresh import lambda_handler

__all__ = ["lambda_handler"]
