"""The domain: Post, Account, their statuses and the pure policies. Standard library and pydantic only."""
