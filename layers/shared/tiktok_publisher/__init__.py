"""tiktok-publisher: connect TikTok accounts and publish to them from a SaaS product."""
