"""Connecting TikTok accounts: signed state, PKCE, authorize URL, return_to checks, connect service."""
