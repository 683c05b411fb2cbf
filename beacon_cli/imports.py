"""`beacon import logs|list|delete`: bring a site's history in from elsewhere.

    beacon import logs /var/log/nginx/access.log* --site example.com
    beacon import list --site example.com
    beacon import delete 3

A new source is one `register_*` function below and one line in `SOURCES`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from tqdm import tqdm

from beacon_app.import_enrichment import SiteEnricher
from beacon_cli.common import audited, emit, settings_and_engine
from beacon_cli.import_events import register_events
from shared.core.clock import utc_now
from shared.imports import records
from shared.imports.log_formats import FORMATS
from shared.imports.log_import import LogImportOptions, LogImportResult, run_log_import
from shared.imports.log_rules import (
    DEFAULT_STATUSES,
    EXCLUDED_PATHS,
    PAGE_EXTENSIONS,
    PageViewRules,
    parse_statuses,
)
from shared.sites import require_site
from shared.storage import write_transaction


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def register_logs(sources: argparse._SubParsersAction) -> None:
    p = sources.add_parser("logs", help="server access logs (nginx, Apache, Caddy; plain or "
                           "gzip) -> page views, enriched like live hits")
    p.add_argument("files", nargs="+", metavar="FILE", help="log files, any order")
    p.add_argument("--site", required=True, help="the site's domain")
    p.add_argument("--format", choices=FORMATS, default="auto",
                   help="log format (default: recognised from the first lines)")
    p.add_argument("--resume", action="store_true",
                   help="continue an import of the same files that was interrupted")
    rules = p.add_argument_group("what is a page view")
    rules.add_argument("--methods", default="GET", help="request methods (default GET)")
    rules.add_argument("--statuses", default=DEFAULT_STATUSES,
                       help=f"status codes and ranges (default {DEFAULT_STATUSES})")
    rules.add_argument("--page-extensions", default=",".join(PAGE_EXTENSIONS[1:]),
                       help="endings of page paths besides none (default "
                            f"{','.join(PAGE_EXTENSIONS[1:])}); others are assets")
    rules.add_argument("--exclude-path", action="append", default=None, metavar="PATTERN",
                       help="paths that are never page views (* matches anything; repeat; "
                            f"default {' '.join(EXCLUDED_PATHS)})")
    rules.add_argument("--include-path", action="append", default=[], metavar="PATTERN",
                       help="count only these paths (repeat)")
    p.add_argument("--checkpoint-lines", type=int, default=200_000, dest="checkpoint_lines",
                   help="lines between two saved positions (default 200000): at most this "
                        "many are read again by --resume")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_logs)


def register_list(sources: argparse._SubParsersAction) -> None:
    p = sources.add_parser("list", help="the imports of a site")
    p.add_argument("--site", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_list)


def register_delete(sources: argparse._SubParsersAction) -> None:
    p = sources.add_parser("delete", help="delete an import and everything it stored")
    p.add_argument("id", type=int)
    p.set_defaults(func=run_delete)


SOURCES: list[Callable[[argparse._SubParsersAction], None]] = [
    register_logs, register_events, register_list, register_delete]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import history: server logs, a Beacon events "
                                      "export; list or delete imports")
    sources = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for add in SOURCES:
        add(sources)


def _rules(args: argparse.Namespace) -> PageViewRules:
    excluded = tuple(args.exclude_path) if args.exclude_path is not None else EXCLUDED_PATHS
    return PageViewRules(methods=frozenset(m.upper() for m in _csv(args.methods)),
                         statuses=parse_statuses(args.statuses),
                         page_extensions=frozenset(("", *(e.lower().lstrip(".") for e in
                                                          _csv(args.page_extensions)))),
                         excluded_paths=excluded, included_paths=tuple(args.include_path))


def run_logs(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    with engine.connect() as conn:
        site = require_site(conn, args.site)
    enrich = SiteEnricher(settings, site)
    quiet = args.quiet or not sys.stderr.isatty()

    def bar(total: int) -> tqdm:
        return tqdm(total=total, unit="B", unit_scale=True, desc="import", disable=quiet,
                    file=sys.stderr)

    result = run_log_import(engine, site, args.files, enrich,
                            LogImportOptions(args.format, _rules(args),
                                             batch_lines=max(1, args.checkpoint_lines)),
                            resume=args.resume, progress=bar)
    if not result.already_done:
        r = result.record
        with write_transaction(engine) as conn:
            audited(conn, "import.logs", f"import #{r.id} ({r.label})", site_id=site.id,
                    details={"status": r.status, "pageviews": r.pageviews,
                             "resumed": result.resumed, "interrupted": result.interrupted})
    print_summary(result)
    return 130 if result.interrupted else 0


def print_summary(result: LogImportResult) -> None:
    r = result.record
    if result.already_done:
        print(f"these files were imported already (import #{r.id}, {r.pageviews} page "
              "views): nothing added")
        return
    if result.interrupted:
        pos = r.position or {}
        print(f"interrupted; import #{r.id} stopped at file {int(pos.get('file', 0)) + 1}, "
              f"line {int(pos.get('line', 0))}: run the same command with --resume")
        return
    counts = r.counts
    period = f"{r.first_ts:%Y-%m-%d} to {r.last_ts:%Y-%m-%d}" if r.first_ts and r.last_ts \
        else "no page views"
    print(f"import #{r.id}{' (resumed)' if result.resumed else ''}: {counts.get('lines', 0)} "
          f"lines, {r.pageviews} page views stored, {r.visitors} visitors ({period})")
    skipped = counts.get("skipped", {})
    if skipped:
        print("left out:")
        for reason, n in sorted(skipped.items(), key=lambda kv: -kv[1]):
            print(f"  {reason:<22} {n}")
    by_category: dict[str, int] = {}
    for label, n in counts.get("bots", {}).items():
        category = label.split("|", 1)[0]
        by_category[category] = by_category.get(category, 0) + n
    if by_category:
        print("bots and AI agents, by category:")
        for category, n in sorted(by_category.items(), key=lambda kv: -kv[1]):
            print(f"  {category:<22} {n}")
    examples = counts.get("bad_examples", [])
    if examples:
        print("unreadable lines (first few):")
        for example in examples:
            print(f"  {example}")
    in_db = r.pageviews
    read = int(counts.get("pageview_lines", 0)) - sum(
        n for k, n in skipped.items() if k in _ENRICH_DROPS)
    if read > in_db:
        print(f"{read - in_db} page views were stored before (same lines): not added again")


_ENRICH_DROPS = {"bot", "automation", "empty_user_agent", "referrer_spam", "ignored_ip",
                 "do_not_track", "other_host", "not_http_url", "prefetch"}


def run_list(args: argparse.Namespace) -> int:
    _settings, engine = settings_and_engine()
    with engine.connect() as conn:
        site = require_site(conn, args.site)
        found = records.list_imports(conn, site.id)
    emit([{"id": r.id, "kind": r.kind, "status": r.status, "files": r.label,
           "from": f"{r.first_ts:%Y-%m-%d}" if r.first_ts else "",
           "to": f"{r.last_ts:%Y-%m-%d}" if r.last_ts else "",
           "pageviews": r.pageviews, "visitors": r.visitors,
           "lines": r.counts.get("lines", 0), "created": f"{r.created_at:%Y-%m-%d %H:%M}"}
          for r in found], args.json)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    _settings, engine = settings_and_engine()
    with write_transaction(engine) as conn:
        record = records.get_import(conn, args.id)
        if record is None:
            raise ValueError(f"no import #{args.id} (see `beacon import list --site ...`)")
        site = require_site(conn, record.site_id)
        deleted = records.delete_import(conn, record, site.timezone, utc_now())
        audited(conn, "import.delete", f"import #{record.id} ({record.label})",
                site_id=site.id, details={"events_removed": deleted})
    print(f"import #{args.id} deleted: {deleted} events removed; the worker rebuilds the "
          "days it covered")
    return 0
