"""authorizer: HTTP API Lambda REQUEST authorizer (payload 2.0): Bearer JWT -> tenant_id, user_id."""

from tiktok_publisher.entrypoints.authorizer import lambda_handler

__all__ = ["lambda_handler"]
