"""`beacon users add|list|remove|passwd|grant|revoke|admin|2fa`: dashboard accounts, site
roles and two-factor sign-in (`2fa status`, `2fa reset` for a locked-out user). Every
change is written to the audit log with the system account that ran the command.

Passwords are read from a prompt (or BEACON_NEW_PASSWORD for scripts), never from the
command line, where they would land in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass

from beacon_cli.common import audited, emit, settings_and_engine
from shared.accounts import two_factor
from shared.accounts.users import (
    ROLES,
    AuthError,
    add_user,
    grant_role,
    list_users,
    remove_user,
    require_user,
    revoke_role,
    roles_of,
    set_admin,
    set_password,
)
from shared.core.settings import Settings
from shared.sites import list_sites, require_site


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
    _register_two_factor(s)


def _register_two_factor(s: argparse._SubParsersAction) -> None:
    tf = s.add_parser("2fa", help="two-factor sign-in of a user: status, reset")
    ts = tf.add_subparsers(dest="two_factor_action", required=True, metavar="ACTION")
    st = ts.add_parser("status", help="who has two-factor sign-in, recovery codes left")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=run_two_factor_status)
    reset = ts.add_parser("reset", help="remove a locked-out user's second factor (and end "
                          "their remembered sign-ins); they set up a new one after signing in")
    reset.add_argument("email")
    reset.set_defaults(func=run_two_factor_reset)


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
        audited(conn, "user.add", user.email,
                after={"admin": user.is_admin, "password": user.has_password})
        for domain, role in _site_grants(args.site):
            grant_role(conn, user.email, domain, role)
            audited(conn, "role.grant", f"{user.email} on {domain}",
                    site_id=require_site(conn, domain).id, before={"role": None},
                    after={"role": role})
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
        audited(conn, "user.remove", user.email)
    print(f"removed {user.email}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    password = read_new_password(settings)
    with engine.begin() as conn:
        user = set_password(conn, args.email, password)
        audited(conn, "user.password", user.email)
    print(f"password of {user.email} changed")
    return 0


def run_grant(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        user, site = require_user(conn, args.email), require_site(conn, args.site)
        before = roles_of(conn, user).get(site.id) if not user.is_admin else "owner (admin)"
        grant_role(conn, args.email, args.site, args.role)
        audited(conn, "role.grant", f"{user.email} on {site.domain}", site_id=site.id,
                before={"role": before}, after={"role": args.role})
    print(f"{args.email} is now {args.role} of {args.site}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        user, site = require_user(conn, args.email), require_site(conn, args.site)
        before = roles_of(conn, user).get(site.id) if not user.is_admin else None
        revoke_role(conn, args.email, args.site)
        audited(conn, "role.revoke", f"{user.email} on {site.domain}", site_id=site.id,
                before={"role": before})
    print(f"{args.email} has no role on {args.site} any more")
    return 0


def run_admin(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        was = require_user(conn, args.email).is_admin
        user = set_admin(conn, args.email, args.state == "on")
        audited(conn, "user.admin", user.email, before={"admin": was},
                after={"admin": user.is_admin})
    print(f"{user.email} admin: {args.state}")
    return 0


def run_two_factor_status(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    with engine.connect() as conn:
        rows = []
        for user in list_users(conn):
            state = two_factor.status(conn, user)
            rows.append({"email": user.email, "two_factor": "on" if state.enabled else "off",
                         "since": state.enabled_at or "-",
                         "recovery_codes_left": state.recovery_codes_left,
                         "required": two_factor.required_for(user, settings.require_2fa)})
    emit(rows, args.json)
    return 0


def run_two_factor_reset(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        user = require_user(conn, args.email)
        had = two_factor.is_enabled(conn, user)
        two_factor.reset(conn, user.email)
        audited(conn, "two_factor.reset", user.email, details={"had_two_factor": had})
    print(f"two-factor sign-in of {user.email} removed; their remembered sign-ins ended. "
          "They sign in with the password and set up a new second factor.")
    return 0
