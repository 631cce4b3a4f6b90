"""TikTok webhooks: the signature, the envelope and the service that applies an event."""
