"""Notify stage: what leaves Beacon on its own - e-mail reports, traffic alerts and
webhooks - queued in one outbox (`outbox.py`) and delivered by the worker.

Each change an owner makes (subscribe, alert rules, webhooks) is one small function
taking a connection, so callers (dashboard, CLI) wrap it in their own transaction.
"""
