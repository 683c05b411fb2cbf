"""`beacon keys create|list|revoke --site D | --user E`: API keys (stored hashed).

`--site`: a stats key reading that site. `--user`: a sites key of that user (the Sites
API: create and delete their sites, goals, shared links; and the stats of their sites).
"""

from __future__ import annotations

import argparse
import sys

from beacon_cli.common import audited, emit, settings_and_engine
from shared.accounts.api_keys import (
    ApiKey,
    create_key,
    create_sites_key,
    list_keys,
    list_user_keys,
    revoke_key,
    revoke_user_key,
)
from shared.accounts.users import require_user
from shared.core.clock import utc_now
from shared.sites import require_site


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="manage Stats API keys of a site")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = s.add_parser("create", help="create a key; it is printed once, store it now")
    _owner(create)
    create.add_argument("--name", default="api", help="a label for the key (default api)")
    create.set_defaults(func=run_create)
    ls = s.add_parser("list", help="list a site's or a user's keys (prefixes only)")
    _owner(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    rv = s.add_parser("revoke", help="revoke a key by id or prefix")
    rv.add_argument("key", help="key id or prefix as shown by `beacon keys list`")
    _owner(rv)
    rv.set_defaults(func=run_revoke)


def _owner(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--site", help="the site's domain (a stats key of that site)")
    who.add_argument("--user", help="a user's e-mail (a sites key of that user: the Sites "
                                    "API and the stats of the user's sites)")



def run_create(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        if args.user:
            user = require_user(conn, args.user)
            key, record = create_sites_key(conn, user.id, args.name, now=utc_now())
            owner = f"user {user.email} (scope sites)"
            audited(conn, "api_key.create", f"key {record.id} ({record.prefix}…) of {user.email}",
                    after={"name": record.name, "prefix": record.prefix, "scopes": "sites"})
        else:
            site = require_site(conn, args.site)
            key, record = create_key(conn, site.id, args.name, now=utc_now())
            owner = site.domain
            audited(conn, "api_key.create", f"key {record.id} ({record.prefix}…) of {site.domain}",
                    site_id=site.id, after={"name": record.name, "prefix": record.prefix})
    print(key)
    print(f"created key {record.prefix}… (id {record.id}) for {owner}; it is not "
          "shown again", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        keys: list[ApiKey] = (list_user_keys(conn, require_user(conn, args.user).id)
                              if args.user else list_keys(conn, require_site(conn, args.site).id))
    emit([{"id": k.id, "name": k.name, "prefix": k.prefix,
           "created_at": k.created_at.isoformat(timespec="seconds"),
           "scopes": ",".join(k.scopes),
           "status": "active" if k.revoked_at is None else "revoked"} for k in keys], args.json)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        if args.user:
            user = require_user(conn, args.user)
            key, owner = revoke_user_key(conn, user.id, args.key, now=utc_now()), user.email
            audited(conn, "api_key.revoke", f"key {key.id} ({key.prefix}…) of {user.email}",
                    before={"name": key.name, "prefix": key.prefix})
        else:
            site = require_site(conn, args.site)
            key, owner = revoke_key(conn, site.id, args.key, now=utc_now()), site.domain
            audited(conn, "api_key.revoke", f"key {key.id} ({key.prefix}…) of {site.domain}",
                    site_id=site.id, before={"name": key.name, "prefix": key.prefix})
    print(f"revoked key {key.prefix}… (id {key.id}) of {owner}")
    return 0
