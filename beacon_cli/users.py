"""`beacon users add|list|remove|passwd|grant|revoke`: dashboard accounts and site roles.

Passwords are read from a prompt (or BEACON_NEW_PASSWORD for scripts), never from the
command line, where they would land in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass

from beacon_cli.common import emit, settings_and_engine
from shared.accounts.users import (
    ROLES,
    AuthError,
    add_user,
    grant_role,
    list_users,
    remove_user,
    revoke_role,
    roles_of,
    set_admin,
    set_password,
)
from shared.core.settings import Settings
from shared.sites import list_sites


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage dashboard users and their site roles")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = s.add_parser("add", help="create a user (asks for the password)")
    add.add_argument("email")
    add.add_argument("--admin", action="store_true", help="owner of every site, manages users")
    add.add_argument("--oidc-only", action="store_true",
                     help="no password: the user signs in with OpenID Connect only")
    add.add_argument("--site", action="append", default=[], metavar="DOMAIN[:ROLE]",
                     help="grant a role on a site (ROLE owner or viewer; default viewer)")
    add.set_defaults(func=run_add)
    ls = s.add_parser("list", help="list users and their roles")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    rm = s.add_parser("remove", help="delete a user")
    rm.add_argument("email")
    rm.set_defaults(func=run_remove)
    pw = s.add_parser("passwd", help="set a new password (also lifts a lock-out)")
    pw.add_argument("email")
    pw.set_defaults(func=run_passwd)
    grant = s.add_parser("grant", help="give a user a role on a site")
    grant.add_argument("email")
    grant.add_argument("site", metavar="DOMAIN")
    grant.add_argument("role", choices=ROLES)
    grant.set_defaults(func=run_grant)
    revoke = s.add_parser("revoke", help="take a user's role on a site away")
    revoke.add_argument("email")
    revoke.add_argument("site", metavar="DOMAIN")
    revoke.set_defaults(func=run_revoke)
    admin = s.add_parser("admin", help="make a user admin or not")
    admin.add_argument("email")
    admin.add_argument("state", choices=("on", "off"))
    admin.set_defaults(func=run_admin)


def read_new_password(settings: Settings) -> str:
    """The new password from BEACON_NEW_PASSWORD, or asked twice on the terminal."""
    if settings.new_password:
        return settings.new_password
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise AuthError("the two passwords differ")
    return first


def _site_grants(values: list[str]) -> list[tuple[str, str]]:
    grants = []
    for value in values:
        domain, _, role = value.partition(":")
        grants.append((domain, role or "viewer"))
    return grants


def run_add(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    password = None if args.oidc_only else read_new_password(settings)
    with engine.begin() as conn:
        user = add_user(conn, args.email, password, is_admin=args.admin)
        for domain, role in _site_grants(args.site):
            grant_role(conn, user.email, domain, role)
    print(f"added {user.email}" + (" (admin)" if user.is_admin else ""))
    return 0


def run_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        domains = {s.id: s.domain for s in list_sites(conn)}
        rows = []
        for user in list_users(conn):
            roles = "all (admin)" if user.is_admin else ",".join(
                f"{domains.get(site_id, site_id)}:{role}"
                for site_id, role in sorted(roles_of(conn, user).items()))
            rows.append({"email": user.email, "admin": user.is_admin,
                         "password": user.has_password, "roles": roles or "-",
                         "locked_until": user.locked_until or "-"})
    emit(rows, args.json)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        user = remove_user(conn, args.email)
    print(f"removed {user.email}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    password = read_new_password(settings)
    with engine.begin() as conn:
        user = set_password(conn, args.email, password)
    print(f"password of {user.email} changed")
    return 0


def run_grant(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        grant_role(conn, args.email, args.site, args.role)
    print(f"{args.email} is now {args.role} of {args.site}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        revoke_role(conn, args.email, args.site)
    print(f"{args.email} has no role on {args.site} any more")
    return 0


def run_admin(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        user = set_admin(conn, args.email, args.state == "on")
    print(f"{user.email} admin: {args.state}")
    return 0
