"""Scheduled posts: the minute-level dispatcher that enqueues the posts whose publish_at has come."""
