"""webhook: POST /v1/webhooks/tiktok (no authorizer): TikTok-Signature check, then idempotent updates."""

from tiktok_publisher.entrypoints.webhook import lambda_handler

__all__ = ["lambda_handler"]
