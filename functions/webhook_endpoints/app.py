"""webhook_endpoints: /v1/webhook-endpoints (register, list, change, delete, rotate, deliveries, replay)."""

from tiktok_publisher.entrypoints.webhook_endpoints import lambda_handler

__all__ = ["lambda_handler"]
