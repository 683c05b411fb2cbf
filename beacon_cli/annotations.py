"""`beacon annotations add|list|edit|remove`: notes on a site's days, drawn on its charts."""

from __future__ import annotations

import argparse
from datetime import date

from beacon_cli.common import audited, emit, settings_and_engine
from shared.core.clock import utc_now
from shared.reports.annotations import (
    add_annotation,
    list_annotations,
    remove_annotation,
    update_annotation,
)
from shared.sites import require_site


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-01") from None


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("annotations", help="manage notes on a site's days (drawn on charts)")
    acts = a.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = acts.add_parser("add", help="note TEXT on a day (--date) or a range (--date, --to)")
    add.add_argument("domain")
    add.add_argument("text")
    add.add_argument("--date", type=_day, required=True, help="the (first) local day")
    add.add_argument("--to", type=_day, help="the last day of a range (inclusive)")
    add.add_argument("--author", help="who wrote it (shown beside the note)")
    add.set_defaults(func=run_add)
    ls = acts.add_parser("list", help="list a site's annotations")
    ls.add_argument("domain")
    ls.add_argument("--from", dest="first", type=_day, help="only those reaching this day")
    ls.add_argument("--to", dest="last", type=_day, help="only those starting by this day")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    edit = acts.add_parser("edit", help="change an annotation's text or days")
    edit.add_argument("domain")
    edit.add_argument("id", type=int)
    edit.add_argument("--text")
    edit.add_argument("--date", type=_day)
    edit.add_argument("--to", type=_day)
    edit.set_defaults(func=run_edit)
    rm = acts.add_parser("remove", help="remove an annotation by id")
    rm.add_argument("domain")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=run_remove)


def run_add(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        note = add_annotation(conn, site.id, args.date, args.text, last_day=args.to,
                              author=args.author, now=utc_now())
        audited(conn, "annotation.add", f"annotation {note.id}", site_id=site.id,
                after={"text": note.text})
    print(f"added annotation {note.id} on {_days(note.first_day, note.last_day)}")
    return 0


def _days(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def run_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        notes = list_annotations(conn, require_site(conn, args.domain).id, args.first,
                                 args.last)
    emit([n.as_dict() for n in notes], args.json)
    return 0


def run_edit(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        note = update_annotation(conn, site.id, args.id, text=args.text, first_day=args.date,
                                 last_day=args.to)
        audited(conn, "annotation.update", f"annotation {note.id}", site_id=site.id)
    print(f"annotation {note.id} is now on {_days(note.first_day, note.last_day)}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        note = remove_annotation(conn, site.id, args.id)
        audited(conn, "annotation.remove", f"annotation {note.id}", site_id=site.id)
    print(f"removed annotation {note.id}")
    return 0
