"""`beacon reports`, `beacon alerts` and `beacon webhooks`: e-mail reports, traffic
alerts and webhooks of a site (the worker sends them; `reports send` tries one now)."""

from __future__ import annotations

import argparse
from datetime import date
from zoneinfo import ZoneInfo

from beacon_cli.common import audited, emit, settings_and_engine
from shared.core.clock import local_day, utc_now
from shared.notify.alert_rules import get_alert_rules, set_alert_rules
from shared.notify.deliver import unsubscribe_url
from shared.notify.periods import KINDS, last_complete, so_far
from shared.notify.report_data import build_report
from shared.notify.report_email import build_message
from shared.notify.smtp import MailError, send_message, smtp_config
from shared.notify.subscriptions import (
    check_email,
    get_subscription,
    list_subscriptions,
    subscribe,
    unsubscribe,
)
from shared.notify.webhooks import EVENTS, add_webhook, list_webhooks, remove_webhook
from shared.sites import require_site


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("reports", help="e-mail reports of a site: send one now, recipients")
    rs = r.add_subparsers(dest="action", required=True, metavar="ACTION")
    send = rs.add_parser("send", help="send one report now (not recorded: try it any time)")
    send.add_argument("domain")
    send.add_argument("--to", required=True, help="recipient address")
    send.add_argument("--period", choices=KINDS, default="week")
    send.add_argument("--now", action="store_true",
                      help="report on the running week or month up to today instead of the "
                           "last whole one")
    send.set_defaults(func=run_send)
    add = rs.add_parser("subscribe", help="add a recipient (or change their periods)")
    add.add_argument("domain")
    add.add_argument("email")
    add.add_argument("--weekly", action="store_true")
    add.add_argument("--monthly", action="store_true")
    add.set_defaults(func=run_subscribe)
    ls = rs.add_parser("list", help="list a site's recipients")
    ls.add_argument("domain")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    rm = rs.add_parser("unsubscribe", help="remove a recipient")
    rm.add_argument("domain")
    rm.add_argument("email")
    rm.set_defaults(func=run_unsubscribe)
    _register_alerts(sub)
    _register_webhooks(sub)


def _register_alerts(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("alerts", help="traffic spike and drop alerts of a site")
    acts = a.add_subparsers(dest="action", required=True, metavar="ACTION")
    st = acts.add_parser("set", help="set the rules (omitted rules are turned off)")
    st.add_argument("domain")
    st.add_argument("--spike", type=int, metavar="N", help="alert above N current visitors")
    st.add_argument("--drop", type=int, metavar="PCT",
                    help="alert when today so far is below PCT %% of the usual")
    st.add_argument("--email", action="append", default=[], help="recipient; repeat")
    st.set_defaults(func=run_alerts_set)
    show = acts.add_parser("show", help="show the rules")
    show.add_argument("domain")
    show.set_defaults(func=run_alerts_show)


def _register_webhooks(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("webhooks", help="webhooks of a site")
    ws = w.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = ws.add_parser("add", help="add a webhook; prints its signing secret")
    add.add_argument("domain")
    add.add_argument("url")
    add.add_argument("--event", action="append", choices=EVENTS, dest="events",
                     help="event to send; repeat (default: all)")
    add.add_argument("--slack", action="store_true", help="Slack-compatible body")
    add.set_defaults(func=run_webhook_add)
    ls = ws.add_parser("list", help="list a site's webhooks")
    ls.add_argument("domain")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_webhook_list)
    rm = ws.add_parser("remove", help="remove a webhook by id")
    rm.add_argument("domain")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=run_webhook_remove)


def run_send(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    config = smtp_config(settings)
    to = check_email(args.to)
    now = utc_now()
    with engine.connect() as conn:
        site = require_site(conn, args.domain)
        today: date = local_day(now, ZoneInfo(site.timezone))
        first, last = (so_far if args.now else last_complete)(args.period, today)
        data = build_report(conn, site, args.period, first, last, now)
        sub = get_subscription(conn, site.id, to)
    link = unsubscribe_url(settings.public_url, sub.unsubscribe_token) if sub else None
    try:
        send_message(config, build_message(data, sender=config.sender, to=to,
                                           unsubscribe_url=link))
    except MailError as exc:
        raise ValueError(f"the report was not sent: {exc}") from None
    print(f"sent the {args.period} report {first} .. {last} of {site.domain} to {to}")
    return 0


def run_subscribe(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        s = subscribe(conn, site.id, args.email, weekly=args.weekly, monthly=args.monthly,
                      now=utc_now())
        audited(conn, "report.subscribe", f"report recipient {s.email}", site_id=site.id,
                after={"weekly": s.weekly, "monthly": s.monthly})
    print(f"{s.email} gets the {' and '.join(s.periods)} reports of {site.domain}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        subs = list_subscriptions(conn, require_site(conn, args.domain).id)
    emit([{"email": s.email, "weekly": s.weekly, "monthly": s.monthly,
           "since": s.created_at.date().isoformat()} for s in subs], args.json)
    return 0


def run_unsubscribe(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        s = unsubscribe(conn, site.id, args.email)
        audited(conn, "report.unsubscribe", f"report recipient {s.email}", site_id=site.id)
    print(f"{s.email} gets no more reports")
    return 0


def run_alerts_set(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        set_alert_rules(conn, site.id, spike_visitors=args.spike, drop_percent=args.drop,
                        emails=args.email, now=utc_now())
        audited(conn, "alert.update", "traffic alerts", site_id=site.id,
                after={"spike_visitors": args.spike, "drop_percent": args.drop,
                       "emails": args.email})
    return run_alerts_show(args)


def run_alerts_show(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        r = get_alert_rules(conn, require_site(conn, args.domain).id)
    spike = f"above {r.spike_visitors} current visitors" if r.spike_visitors else "off"
    drop = f"below {r.drop_percent}% of the usual" if r.drop_percent else "off"
    print(f"spike: {spike}")
    print(f"drop: {drop}")
    print(f"e-mail to: {', '.join(r.emails) or '(nobody; webhooks only)'}")
    return 0


def run_webhook_add(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        hook = add_webhook(conn, site.id, args.url, args.events or list(EVENTS),
                           payload_format="slack" if args.slack else "json", now=utc_now())
        audited(conn, "webhook.add", f"webhook {hook.id} to {hook.url}", site_id=site.id,
                after={"events": hook.events, "format": hook.payload_format})
    print(f"added webhook {hook.id} ({', '.join(hook.events)}); signing secret: {hook.secret}")
    return 0


def run_webhook_list(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.connect() as conn:
        hooks = list_webhooks(conn, require_site(conn, args.domain).id)
    emit([{"id": h.id, "url": h.url, "events": ",".join(h.events), "format": h.payload_format}
          for h in hooks], args.json)
    return 0


def run_webhook_remove(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with engine.begin() as conn:
        site = require_site(conn, args.domain)
        hook = remove_webhook(conn, site.id, args.id)
        audited(conn, "webhook.remove", f"webhook {hook.id} to {hook.url}", site_id=site.id)
    print(f"removed webhook {hook.id} ({hook.url})")
    return 0
