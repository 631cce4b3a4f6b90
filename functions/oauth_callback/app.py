"""oauth_callback: GET /v1/oauth/tiktok/callback (no authorizer) -> consume state, exchange the code, store"""

from tiktok_publisher.entrypoints.oauth_callback import lambda_handler

__all__ = ["lambda_handler"]
