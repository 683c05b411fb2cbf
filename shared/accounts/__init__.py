"""Accounts: dashboard users, API keys, login tokens and share links."""
