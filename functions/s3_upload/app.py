"""s3_upload: an object landed under uploads/: match it to its waiting post, check, probe, enqueue."""

from tiktok_publisher.entrypoints.s3_upload import lambda_handler

__all__ = ["lambda_handler"]
