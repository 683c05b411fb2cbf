"""Enrichment step: the client's IP address (the rule lives in `shared.core.client_address`,
which the dashboard's sign-in throttle uses too)."""

from shared.core.client_address import client_ip

__all__ = ["client_ip"]
