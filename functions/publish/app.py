"""publish: POST /v1/uploads (presigned S3 PUT), POST/GET /v1/posts, GET/DELETE /v1/posts/{post_id}."""

from tiktok_publisher.entrypoints.publish import lambda_handler

__all__ = ["lambda_handler"]
