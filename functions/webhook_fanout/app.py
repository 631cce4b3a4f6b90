"""webhook_fanout: bus events to the webhook endpoints that subscribed to them (EventBridge rule)."""

from tiktok_publisher.entrypoints.webhook_fanout import lambda_handler

__all__ = ["lambda_handler"]
