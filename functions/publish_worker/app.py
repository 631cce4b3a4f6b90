"""publish_worker: SQS publish jobs (init, streamed transfer, status polling), partial batch failures."""

from tiktok_publisher.entrypoints.publish_worker import lambda_handler

__all__ = ["lambda_handler"]
