"""accounts: list, detail, disconnect and creator-info of a tenant's TikTok accounts; also serves the API's"""

from tiktok_publisher.entrypoints.accounts import lambda_handler

__all__ = ["lambda_handler"]
