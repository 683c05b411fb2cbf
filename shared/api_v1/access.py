"""Stats API v1, access step: which site a bearer key may read, with v1's 401 answers.

The same keys as `/api/v2/query`: a site's "stats" key reads that site only; a user's
"sites" key reads the sites its user may see (as every Plausible key reads stats) and
may manage those the user owns. v1 answers a missing key, an unknown or revoked key and
a site the key may not read alike with 401, so site names cannot be probed.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from shared.accounts.api_keys import SITES, ApiKey, verify_key
from shared.accounts.users import roles_of, user_by_id
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


def user_roles(conn: Connection, key: ApiKey) -> dict[int, str]:
    """site id -> role of a sites key's user (none for a stats key or a removed user)."""
    user = user_by_id(conn, key.user_id) if key.user_id is not None else None
    return roles_of(conn, user) if user is not None else {}


def may_read(conn: Connection, key: ApiKey, site: Site) -> bool:
    return key.site_id == site.id or site.id in user_roles(conn, key)


def may_manage(conn: Connection, key: ApiKey, site: Site) -> bool:
    """Whether `key` may change `site` (goals, share links, deletion): a sites key of
    one of its owners."""
    return SITES in key.scopes and user_roles(conn, key).get(site.id) == "owner"
