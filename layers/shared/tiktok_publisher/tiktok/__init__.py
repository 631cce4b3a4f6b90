"""TikTok Login Kit and Content Posting API: client, models, chunk planning, error taxonomy."""
