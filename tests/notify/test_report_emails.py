"""E-mail reports end to end: the worker sends a weekly report to a real SMTP server
once, with the query layer's numbers, an inline chart and a working unsubscribe link;
a failed try is retried with backoff and still arrives once."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_app import create_app
from shared.accounts import audit
from shared.core import schema
from shared.jobs.worker import run_once
from shared.notify.report_data import report_query
from shared.notify.report_email import fmt_change, fmt_value
from shared.notify.subscriptions import get_subscription, list_subscriptions, subscribe
from shared.reports import add_goal, breakdown, goal_conversions, totals
from shared.sites import get_site
from shared.storage import write_transaction
from tests.beacon.helpers import CREATED
from tests.notify.conftest import SmtpServer
from tests.notify.traffic import week_of_traffic, write
from tests.queries.factory import make_site

TZ = "Europe/Berlin"
MONDAY, SUNDAY = date(2026, 11, 30), date(2026, 12, 6)
NOW = datetime(2026, 12, 7, 6, 0)        # Monday 07:00 in Berlin: last week is due
HEADLINE = ("Visitors", "Visits", "Pageviews", "Bounce rate", "Visit duration")


@pytest.fixture
def site(engine: Engine) -> int:
    site_id = make_site(engine, "example.com", TZ)
    write(engine, week_of_traffic(site_id, MONDAY - timedelta(days=7), 2), site_id, TZ, NOW)
    write(engine, week_of_traffic(site_id, MONDAY, 4), site_id, TZ, NOW)
    with write_transaction(engine) as conn:
        add_goal(conn, site_id, event_name="signup", display_name="Signup", now=NOW)
        subscribe(conn, site_id, "alice@example.com", weekly=True, monthly=False,
                  now=datetime(2026, 11, 20))
    return site_id


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def headline_of(text: str) -> dict[str, tuple[str, str]]:
    out = {}
    for line in text.splitlines():
        label = line[:16].strip()
        if label in HEADLINE:
            out[label] = (line[16:28].strip(), line[31:].strip())
    return out


def section(text: str, title: str) -> list[tuple[str, str]]:
    lines = text.split(title + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [tuple(line.strip().split("  ", 1)) for line in lines]  # type: ignore[misc]


def test_weekly_report_arrives_once_with_the_query_layers_numbers(
        engine: Engine, site: int, notify_env: SmtpServer) -> None:
    run_once(engine, NOW)
    inbox = notify_env.inbox
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.envelopes[0][1] == ["alice@example.com"]
    assert message["Subject"] == "Weekly report for example.com: 30 Nov – 6 Dec 2026"
    text = text_part(message)

    with engine.connect() as conn:
        s = get_site(conn, site)
        assert s is not None
        query = report_query(s, MONDAY, SUNDAY, NOW)
        expected = totals(conn, query)
        pages = breakdown(conn, query, "page").rows
        (goal,) = goal_conversions(conn, query)
    # Hand count: 4..10 visitors a day this week, 2..8 the week before; one in three
    # views two pages (bounce rate) and signs up.
    assert expected.metrics.visitors == sum(range(4, 11)) == 49
    assert expected.previous is not None and expected.previous.visitors == 35
    shown = headline_of(text)
    for label, metric in zip(HEADLINE, ("visitors", "visits", "pageviews", "bounce_rate",
                                        "visit_duration"), strict=True):
        assert shown[label] == (fmt_value(metric, getattr(expected.metrics, metric)),
                                fmt_change(metric, expected.changes[metric])), label
    assert shown["Visitors"] == ("49", "+40%")
    assert section(text, "Top pages (visitors)") == [
        (f"{r.metrics.visitors:,}", r.value) for r in pages]
    sources = dict((name, n) for n, name in section(text, "Top sources (visitors)"))
    assert sources["Google"] == str(sum((4 + d + 2) // 3 for d in range(7)))
    assert goal.conversions == sum((4 + d + 2) // 3 for d in range(7))
    assert f"{goal.conversions} ({goal.conversion_rate:.1f}%)  Signup" in text

    html = message.get_body(("html",))
    assert html is not None
    cid = re.search(r'src="cid:([^"]+)"', str(html.get_content()))
    assert cid is not None
    (image,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{cid.group(1)}>"
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    # The worker runs again (later that day, and the next day): nothing is sent twice.
    run_once(engine, NOW + timedelta(hours=1))
    run_once(engine, NOW + timedelta(days=1))
    assert len(inbox.messages) == 1
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.notifications)).all()
    assert [(r.event, r.status, r.attempts) for r in rows] == [("report", "sent", 1)]


def test_the_unsubscribe_link_works_without_signing_in(
        engine: Engine, site: int, notify_env: SmtpServer, settings) -> None:
    run_once(engine, NOW)
    (message,) = notify_env.inbox.messages
    link = re.search(r"Unsubscribe: (\S+)", text_part(message))
    assert link is not None
    assert message["List-Unsubscribe"] == f"<{link.group(1)}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link.group(1).removeprefix("https://stats.example.org")
    app = create_app(settings)
    CREATED.append(app)
    client = app.test_client()
    page = client.get(path)            # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and b"alice@example.com" in page.data
    with engine.connect() as conn:
        assert get_subscription(conn, site, "alice@example.com") is not None
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"gets no more reports" in done.data
    with engine.connect() as conn:
        assert list_subscriptions(conn, site) == []
        (entry,) = audit.entries(conn)
    assert (entry.action, entry.source, entry.actor) == (
        "report.unsubscribe", "api", "alice@example.com (unsubscribe link)")
    again = client.post(path)
    assert again.status_code == 404
    assert client.post("/notify/unsubscribe?token=forged").status_code == 404


def test_a_failed_try_is_retried_with_backoff_and_arrives_once(
        engine: Engine, site: int, notify_env: SmtpServer) -> None:
    notify_env.stop()                              # the mail server is down
    run_once(engine, NOW)
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.notifications)).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert "ConnectionRefusedError" in row.last_error
    notify_env.start()
    run_once(engine, NOW + timedelta(seconds=30))  # not due yet
    assert notify_env.inbox.messages == []
    run_once(engine, NOW + timedelta(minutes=2))
    run_once(engine, NOW + timedelta(minutes=5))
    assert len(notify_env.inbox.messages) == 1
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.notifications)).one()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_new_recipient_gets_no_back_dated_report(
        engine: Engine, site: int, notify_env: SmtpServer) -> None:
    with write_transaction(engine) as conn:
        subscribe(conn, site, "bob@example.com", weekly=True, monthly=True, now=NOW)
    run_once(engine, NOW + timedelta(minutes=1))
    assert [e[1] for e in notify_env.inbox.envelopes] == [["alice@example.com"]]


def test_monthly_report_on_the_first_and_hostile_strings_escaped(
        engine: Engine, notify_env: SmtpServer) -> None:
    from tests.notify.traffic import visit

    site_id = make_site(engine, "example.com", TZ)
    hostile = "/<script>alert(1)</script>"
    rows = visit(site_id, datetime(2026, 11, 12, 9), pages=(hostile,),
                 source='<img src=x onerror="alert(1)">')
    rows += visit(site_id, datetime(2026, 12, 2, 9))          # December: not in the report
    write(engine, rows, site_id, TZ, NOW)
    with write_transaction(engine) as conn:
        subscribe(conn, site_id, "carol@example.com", weekly=False, monthly=True,
                  now=datetime(2026, 11, 5))   # after October ended: no October report
    first_of_december = datetime(2026, 11, 30, 23, 30)     # 00:30 on 1 December in Berlin
    run_once(engine, first_of_december - timedelta(hours=1))   # still November there
    assert notify_env.inbox.messages == []
    run_once(engine, first_of_december)
    run_once(engine, first_of_december + timedelta(days=6))
    (message,) = notify_env.inbox.messages
    assert message["Subject"] == "Monthly report for example.com: 1 – 30 Nov 2026"
    assert headline_of(text_part(message))["Visitors"][0] == "1"
    assert hostile in text_part(message)                     # plain text shows it as it is
    html = str(message.get_body(("html",)).get_content())
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html


def test_report_webhook_carries_the_same_numbers_signed(
        engine: Engine, site: int, notify_env: SmtpServer, receiver) -> None:
    from shared.notify.webhooks import add_webhook

    with write_transaction(engine) as conn:
        hook = add_webhook(conn, site, receiver.base + "/r", ["report"],
                           now=datetime(2026, 11, 20))
    receiver.secrets["/r"] = hook.secret
    run_once(engine, NOW)
    run_once(engine, NOW + timedelta(hours=2))
    calls = {c["json"]["data"]["period"]: c for c in receiver.requests}
    assert len(receiver.requests) == 2 and set(calls) == {"week", "month"}
    week = calls["week"]
    assert week["verified"] and week["headers"]["X-Beacon-Event"] == "report"
    data = week["json"]["data"]
    assert (data["first_day"], data["last_day"]) == ("2026-11-30", "2026-12-06")
    with engine.connect() as conn:
        s = get_site(conn, site)
        assert s is not None
        expected = totals(conn, report_query(s, MONDAY, SUNDAY, NOW))
    assert data["metrics"]["visitors"] == expected.metrics.visitors == 49
    assert data["metrics"]["pageviews"] == expected.metrics.pageviews
    assert data["changes"]["visitors"] == pytest.approx(expected.changes["visitors"])
    assert calls["month"]["json"]["data"]["first_day"] == "2026-11-01"
