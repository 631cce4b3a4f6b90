"""After the post: counts of published posts and connected accounts, read from TikTok on demand (the API) and
by the snapshot schedule, with their history (docs/metrics.md)."""
