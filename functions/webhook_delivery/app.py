"""webhook_delivery: signed webhook POSTs from the FIFO delivery queue, retried with growing delays."""

from tiktok_publisher.entrypoints.webhook_delivery import lambda_handler

__all__ = ["lambda_handler"]
