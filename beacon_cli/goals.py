"""`beacon goals add|list|remove` and `beacon funnels add|list|remove`: conversion setup."""

from __future__ import annotations

import argparse

from beacon_cli.common import audited, emit, settings_and_engine
from shared.accounts.audit import state_of
from shared.core.clock import utc_now
from shared.reports.funnels import FunnelStep, add_funnel, list_funnels, remove_funnel
from shared.reports.goals import add_goal, list_goals, remove_goal
from shared.sites import require_site


def _prop(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{value!r} is not key=value")
    return key, val


def _step(value: str) -> FunnelStep:
    kind, sep, rest = value.partition(":")
    if not sep or kind not in ("page", "event") or not rest:
        raise argparse.ArgumentTypeError(f"{value!r} is not page:/path or event:name")
    return FunnelStep(kind, rest)


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("goals", help="manage conversion goals of a site")
    gs = g.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = gs.add_parser("add", help="add a page goal (--page) or an event goal (--event)")
    add.add_argument("domain")
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--page", help="path pattern; * = one segment, ** = anything")
    what.add_argument("--event", help="custom event name")
    add.add_argument("--prop", type=_prop, help="event goals: only when property KEY=VALUE")
    add.add_argument("--scroll", type=int, metavar="PERCENT",
                     help="page goals: visitors who scrolled at least PERCENT of the page")
    add.add_argument("--name", help="display name (default derived from the goal)")
    add.add_argument("--currency", help="event goals: a revenue goal in this ISO 4217 "
                     "currency (amounts in other currencies are reported apart)")
    add.set_defaults(func=run_goal_add)
    ls = gs.add_parser("list", help="list a site's goals")
    ls.add_argument("domain")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_goal_list)
    rm = gs.add_parser("remove", help="remove a goal by id")
    rm.add_argument("domain")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=run_goal_remove)
    _register_funnels(sub)


def _register_funnels(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("funnels", help="manage funnels of a site")
    fs = f.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = fs.add_parser("add", help="add a funnel of 2-8 ordered steps")
    add.add_argument("domain")
    add.add_argument("name")
    add.add_argument("--step", type=_step, action="append", required=True, dest="steps",
                     help="page:/path/* or event:name; repeat in order")
    add.set_defaults(func=run_funnel_add)
    ls = fs.add_parser("list", help="list a site's funnels")
    ls.add_argument("domain")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_funnel_list)
    rm = fs.add_parser("remove", help="remove a funnel by id")
    rm.add_argument("domain")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=run_funnel_remove)


def run_goal_add(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    key, value = args.prop if args.prop else (None, None)
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        goal = add_goal(conn, site.id, page_path=args.page, event_name=args.event,
                        prop_key=key, prop_value=value, display_name=args.name,
                        scroll_threshold=args.scroll, currency=args.currency, now=utc_now())
        audited(conn, "goal.add", f"goal {goal.id} of {site.domain}", site_id=site.id,
                after=state_of(goal))
    print(f"added goal {goal.id}: {goal.display_name}")
    return 0


def run_goal_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        goals = list_goals(conn, require_site(conn, args.domain).id)
    emit([{"id": g.id, "name": g.display_name, "kind": g.kind,
           "match": g.event_name if g.kind == "event" else g.page_path,
           "scroll": f"{g.scroll_threshold}%" if g.scroll_threshold is not None else "",
           "prop": f"{g.prop_key}={g.prop_value}" if g.prop_key is not None else "",
           "currency": g.currency or ""}
          for g in goals], args.json)
    return 0


def run_goal_remove(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        goal = remove_goal(conn, site.id, args.id)
        audited(conn, "goal.remove", f"goal {goal.id} of {site.domain}", site_id=site.id,
                before=state_of(goal))
    print(f"removed goal {goal.id}: {goal.display_name}")
    return 0


def run_funnel_add(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        funnel = add_funnel(conn, site.id, args.name, args.steps, now=utc_now())
        audited(conn, "funnel.add", f"funnel {funnel.id} of {site.domain}", site_id=site.id,
                after=state_of(funnel))
    print(f"added funnel {funnel.id}: {funnel.name} ({len(funnel.steps)} steps)")
    return 0


def run_funnel_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        funnels = list_funnels(conn, require_site(conn, args.domain).id)
    emit([{"id": f.id, "name": f.name,
           "steps": " > ".join(f"{s.kind}:{s.value}" for s in f.steps)} for f in funnels],
         args.json)
    return 0


def run_funnel_remove(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        funnel = remove_funnel(conn, site.id, args.id)
        audited(conn, "funnel.remove", f"funnel {funnel.id} of {site.domain}",
                site_id=site.id, before=state_of(funnel))
    print(f"removed funnel {funnel.id}: {funnel.name}")
    return 0
