"""oauth_start: GET /v1/oauth/tiktok/start -> pending session, signed state, PKCE -> the authorize URL."""

from tiktok_publisher.entrypoints.oauth_start import lambda_handler

__all__ = ["lambda_handler"]
