"""`beacon audit list|export`: read the audit log (who changed what, when, from where)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime

from beacon_cli.common import audited, emit, settings_and_engine
from shared.accounts.audit import ACTIONS, AuditFilter, entries
from shared.dataout.audit_export import write_csv
from shared.sites import require_site
from shared.storage.private_files import open_private


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="read the audit log: who changed what, when")
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = s.add_parser("list", help="the newest entries, newest first")
    _filters(ls)
    ls.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    ex = s.add_parser("export", help="every matching entry as CSV, oldest first")
    _filters(ex)
    ex.add_argument("--output", "-o", required=True, help="file to write, or - for stdout")
    ex.add_argument("--force", action="store_true", help="replace an existing file")
    ex.set_defaults(func=run_export)
    acts = s.add_parser("actions", help="the action names and what they mean")
    acts.set_defaults(func=run_actions)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="entries from this UTC day on")
    p.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="entries before this UTC day")
    p.add_argument("--actor", default="", help="one person's e-mail (or system account)")
    p.add_argument("--action", default="", help="an action (site.update) or a prefix (site.)")
    p.add_argument("--site", help="entries about this site (domain)")


def _filter(args: argparse.Namespace) -> AuditFilter:
    if args.action and args.action not in ACTIONS and not (
            args.action.endswith(".") and any(a.startswith(args.action) for a in ACTIONS)):
        raise ValueError(f"unknown action {args.action!r} (see `beacon audit actions`)")
    site_id = None
    if args.site:
        _, engine = settings_and_engine()
        with engine.connect() as conn:
            site_id = require_site(conn, args.site).id
    return AuditFilter(
        since=datetime.combine(args.since, datetime.min.time()) if args.since else None,
        until=datetime.combine(args.until, datetime.min.time()) if args.until else None,
        actor=args.actor, action=args.action, site_id=site_id)


def run_list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    f = _filter(args)
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        rows = [{"at_utc": e.at.isoformat(timespec="seconds"), "actor": e.actor,
                 "source": e.source, "action": e.action, "target": e.target,
                 "details": e.details} for e in entries(conn, f, limit=args.limit)]
    emit(rows, args.json)
    return 0


def run_export(args: argparse.Namespace) -> int:
    f = _filter(args)
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        if args.output == "-":
            count = write_csv(conn, sys.stdout, f)
        else:
            fd = open_private(args.output, replace=args.force, tighten=True)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                count = write_csv(conn, out, f)
    audited(engine, "export.audit_log",
            "standard output" if args.output == "-" else args.output,
            details={"rows": count, "since": args.since, "until": args.until,
                     "actor": args.actor, "action": args.action, "site": args.site})
    if args.output != "-":
        print(f"wrote {count:,} audit entries to {args.output}", file=sys.stderr)
    return 0


def run_actions(args: argparse.Namespace) -> int:
    emit([{"action": name, "meaning": meaning} for name, meaning in ACTIONS.items()], False)
    return 0
