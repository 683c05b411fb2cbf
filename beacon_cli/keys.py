"""`beacon keys create|list|revoke --site D`: Stats API keys (stored hashed)."""

from __future__ import annotations

import argparse
import sys

from beacon_cli.common import audited, emit, settings_and_engine
from shared.accounts.api_keys import create_key, list_keys, revoke_key
from shared.core.clock import utc_now
from shared.sites import require_site


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="manage Stats API keys of a site")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = s.add_parser("create", help="create a key; it is printed once, store it now")
    create.add_argument("--site", required=True, help="the site's domain")
    create.add_argument("--name", default="api", help="a label for the key (default api)")
    create.set_defaults(func=run_create)
    ls = s.add_parser("list", help="list a site's keys (prefixes only)")
    ls.add_argument("--site", required=True)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    rv = s.add_parser("revoke", help="revoke a key by id or prefix")
    rv.add_argument("key", help="key id or prefix as shown by `beacon keys list`")
    rv.add_argument("--site", required=True)
    rv.set_defaults(func=run_revoke)



def run_create(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.site)
        key, record = create_key(conn, site.id, args.name, now=utc_now())
        audited(conn, "api_key.create", f"key {record.id} ({record.prefix}…) of {site.domain}",
                site_id=site.id, after={"name": record.name, "prefix": record.prefix})
    print(key)
    print(f"created key {record.prefix}… (id {record.id}) for {site.domain}; it is not "
          "shown again", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        site = require_site(conn, args.site)
        keys = list_keys(conn, site.id)
    emit([{"id": k.id, "name": k.name, "prefix": k.prefix,
           "created_at": k.created_at.isoformat(timespec="seconds"),
           "status": "active" if k.revoked_at is None else "revoked"} for k in keys], args.json)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.site)
        key = revoke_key(conn, site.id, args.key, now=utc_now())
        audited(conn, "api_key.revoke", f"key {key.id} ({key.prefix}…) of {site.domain}",
                site_id=site.id, before={"name": key.name, "prefix": key.prefix})
    print(f"revoked key {key.prefix}… (id {key.id}) of {site.domain}")
    return 0
