"""Stats API v1, access step: which site a bearer key may read, with v1's 401 answers.

The same keys as `/api/v2/query`: a site's key reads that site only. v1 answers a
missing key, an unknown or revoked key and a site the key may not read alike with 401,
so site names cannot be probed.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from shared.accounts.api_keys import ApiKey, verify_key
from shared.sites import Site, SiteError, get_site

from .errors import V1Error

MISSING_KEY = "Missing API key. Please use a valid Plausible API key as a Bearer Token."
INVALID_FOR_SITE = ("Invalid API key or site ID. Please make sure you're using a valid API key "
                    "with access to the site you've requested.")
INVALID_KEY = ("Invalid API key. Please make sure you're using a valid API key with access to "
               "the resource you've requested.")


def bearer_token(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def key_for(conn: Connection, token: str) -> ApiKey:
    if not token:
        raise V1Error(MISSING_KEY, 401)
    key = verify_key(conn, token)
    if key is None:
        raise V1Error(INVALID_KEY, 401)
    return key


def readable_site(conn: Connection, key: ApiKey, site_id: str) -> Site:
    """The site `site_id` (a domain) if `key` may read its stats; else 401."""
    try:
        site = get_site(conn, site_id)
    except SiteError:
        site = None
    if site is None or not may_read(conn, key, site):
        raise V1Error(INVALID_FOR_SITE, 401)
    return site


def may_read(conn: Connection, key: ApiKey, site: Site) -> bool:
    return key.site_id == site.id
