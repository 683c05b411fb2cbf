"""`beacon sites add|list|remove|update|token`: manage the tracked sites."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from beacon_cli.common import audited, emit, settings_and_engine
from shared.accounts.audit import state_of
from shared.sites import (
    add_site,
    list_sites,
    new_ingest_token,
    remove_site,
    require_site,
    update_site,
)
from shared.storage import write_transaction


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _search_params(value: str) -> list[str]:
    return [] if value.strip().lower() == "off" else _csv(value)


def _bool(value: str) -> bool:
    if value.lower() in ("on", "true", "yes", "1"):
        return True
    if value.lower() in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{value!r} is not on/off")


def _site_options(p: argparse.ArgumentParser, *, adding: bool) -> None:
    p.add_argument("--timezone", default="UTC" if adding else None,
                   help="IANA timezone for days and reports (default UTC)")
    p.add_argument("--ignore-ips", type=_csv, dest="ignored_ips",
                   help="comma list of IPs/CIDRs whose hits are not counted (own traffic)")
    p.add_argument("--hostnames", type=_csv, dest="extra_hostnames",
                   help="comma list of extra hostnames that count as this site")
    p.add_argument("--honor-dnt", type=_bool, dest="honor_dnt", metavar="on|off",
                   help="drop hits that send DNT: 1 or Sec-GPC: 1 (default off)")
    p.add_argument("--collect-language", type=_bool, dest="collect_language",
                   metavar="on|off", help="record the Accept-Language primary tag (default on)")
    p.add_argument("--allow-localhost", type=_bool, dest="allow_localhost", metavar="on|off",
                   help="count hits from localhost pages (development; default off)")
    p.add_argument("--retention-months", type=int, dest="retention_months",
                   help="keep raw events this many months (0 = forever)")
    p.add_argument("--rollup-retention-months", type=int, dest="rollup_retention_months",
                   help="keep daily rollups this many months (0 = forever)")
    p.add_argument("--search-params", type=_search_params, dest="search_params",
                   metavar="NAMES", help="comma list of query parameters holding a site-"
                   "search term (default q,query,s,search,searchword,k,keyword; 'off': none)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sites", help="manage tracked sites")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = s.add_parser("add", help="register a site by domain")
    add.add_argument("domain")
    _site_options(add, adding=True)
    add.set_defaults(func=run_add)
    ls = s.add_parser("list", help="list sites")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    rm = s.add_parser("remove", help="delete a site and ALL its data")
    rm.add_argument("domain")
    rm.add_argument("--yes", action="store_true", help="confirm the deletion")
    rm.set_defaults(func=run_remove)
    up = s.add_parser("update", help="change a site's settings")
    up.add_argument("domain")
    _site_options(up, adding=False)
    up.set_defaults(func=run_update)
    tok = s.add_parser("token", help="create a new token for POST /api/events (old one stops)")
    tok.add_argument("domain")
    tok.set_defaults(func=run_token)


def _options(args: argparse.Namespace) -> dict:
    keys = ("ignored_ips", "extra_hostnames", "honor_dnt", "collect_language",
            "allow_localhost", "retention_months", "rollup_retention_months",
            "search_params")
    return {k: getattr(args, k) for k in keys}


def run_add(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with write_transaction(engine) as conn:
        site = add_site(conn, args.domain, timezone=args.timezone, **_options(args))
        audited(conn, "site.add", site.domain, site_id=site.id, after=state_of(site))
    print(f"added {site.domain} (id {site.id}, timezone {site.timezone})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        sites = list_sites(conn)
    rows = []
    for site in sites:
        row = asdict(site)
        row.pop("networks")
        row.pop("api_token_hash")
        row["ignored_ips"] = ",".join(site.ignored_ips)
        row["extra_hostnames"] = ",".join(site.extra_hostnames)
        rows.append(row)
    emit(rows, args.json)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        site = require_site(conn, args.domain)
    if not args.yes:
        raise ValueError(f"this deletes {site.domain} and all its data; repeat with --yes")
    with write_transaction(engine) as conn:
        removed = remove_site(conn, args.domain)
        audited(conn, "site.remove", removed.domain, site_id=removed.id,
                before=state_of(removed))
    print(f"removed {site.domain} and all its data")
    return 0


def run_update(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with write_transaction(engine) as conn:
        before = require_site(conn, args.domain)
        site = update_site(conn, args.domain, timezone=args.timezone, **_options(args))
        audited(conn, "site.update", site.domain, site_id=site.id,
                before=state_of(before), after=state_of(site))
    print(f"updated {site.domain}")
    return 0


def run_token(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with write_transaction(engine) as conn:
        token = new_ingest_token(conn, args.domain)
        site = require_site(conn, args.domain)
        audited(conn, "site.ingest_token", site.domain, site_id=site.id)
    print(token)
    return 0
