"""Enrichment step: the anonymous visitor id, a keyed hash of site, IP and User-Agent.

The key is the day's random salt (see shared/ingest/salts.py), so the id cannot be linked
across days and the IP is never stored. 64 bits keep collisions negligible at any
realistic daily visitor count and fit a PostgreSQL BIGINT as a signed integer.
"""

from __future__ import annotations

import hashlib


def visitor_id(salt: bytes, site_id: int, ip: str, user_agent: str) -> int:
    """Keyed BLAKE2b-64 of `site_id|ip|user_agent`, as a signed 64-bit integer."""
    message = f"{site_id}|{ip}|{user_agent}".encode("utf-8", errors="surrogatepass")
    digest = hashlib.blake2b(message, key=salt, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
