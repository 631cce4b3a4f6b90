"""Accounts of a tenant: list, detail, disconnect, and the creator-info post-form contract."""
