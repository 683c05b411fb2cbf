"""`beacon reports|alerts|webhooks` against a real database and a real SMTP server."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.core.clock import local_day, utc_now
from shared.notify.periods import last_complete
from shared.notify.report_data import report_query
from shared.reports import totals
from shared.sites import get_site
from tests.notify.conftest import SmtpServer
from tests.notify.traffic import visit, write
from tests.queries.factory import make_site

TZ = "Europe/Berlin"


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch, engine: Engine, notify_env: SmtpServer) -> int:
    monkeypatch.setattr("beacon_cli.main.COMMAND_MODULES", ("beacon_cli.notify",))
    return make_site(engine, "a.example", TZ)


def test_reports_send_delivers_the_last_whole_week(site: int, engine: Engine,
                                                   notify_env: SmtpServer, capsys) -> None:
    now = utc_now()
    # One week ago is always inside the last whole week (Monday to Sunday).
    rows = [r for v in range(5) for r in visit(site, now - timedelta(days=7, minutes=v))]
    write(engine, rows, site, TZ, now)
    assert main(["reports", "send", "a.example", "--to", "Boss@Example.com",
                 "--period", "week"]) == 0
    (message,) = notify_env.inbox.messages
    assert notify_env.inbox.envelopes[0][1] == ["boss@example.com"]
    first, last = last_complete("week", local_day(utc_now(), ZoneInfo(TZ)))
    with engine.connect() as conn:
        s = get_site(conn, site)
        assert s is not None
        expected = totals(conn, report_query(s, first, last, utc_now())).metrics.visitors
    assert expected == 5
    text = message.get_body(("plain",)).get_content()
    assert any(line.startswith("Visitors") and line.split()[1] == "5"
               for line in text.splitlines())
    assert "sent the week report" in capsys.readouterr().out


def test_reports_send_says_why_when_it_cannot(site: int, notify_env: SmtpServer,
                                              capsys) -> None:
    assert main(["reports", "send", "a.example", "--to", "not-an-address"]) == 2
    assert "not an e-mail address" in capsys.readouterr().err
    assert main(["reports", "send", "nowhere.example", "--to", "a@example.com"]) == 2
    notify_env.stop()
    assert main(["reports", "send", "a.example", "--to", "a@example.com", "--now"]) == 2
    assert "the report was not sent: ConnectionRefusedError" in capsys.readouterr().err


def test_recipients_alerts_and_webhooks(site: int, capsys) -> None:
    assert main(["reports", "subscribe", "a.example", "a@example.com", "--monthly"]) == 0
    assert main(["reports", "subscribe", "a.example", "a@example.com"]) == 2
    capsys.readouterr()
    assert main(["reports", "list", "a.example", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["email"], row["weekly"], row["monthly"]) == ("a@example.com", False, True)
    assert main(["reports", "unsubscribe", "a.example", "a@example.com"]) == 0
    assert main(["reports", "unsubscribe", "a.example", "a@example.com"]) == 2

    assert main(["alerts", "set", "a.example", "--spike", "100", "--email",
                 "ops@example.com"]) == 0
    assert "above 100 current visitors" in capsys.readouterr().out
    assert main(["alerts", "set", "a.example", "--drop", "150"]) == 2
    assert "between 1 and 99" in capsys.readouterr().err

    assert main(["webhooks", "add", "a.example", "file:///etc/passwd"]) == 2
    assert "https://" in capsys.readouterr().err
    assert main(["webhooks", "add", "a.example", "https://h.example/x", "--event", "spike",
                 "--slack"]) == 0
    assert "signing secret: whsec_" in capsys.readouterr().out
    assert main(["webhooks", "list", "a.example", "--json"]) == 0
    (hook,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (hook["url"], hook["events"], hook["format"]) == ("https://h.example/x", "spike",
                                                             "slack")
    assert main(["webhooks", "remove", "a.example", str(hook["id"])]) == 0
    assert main(["webhooks", "remove", "a.example", str(hook["id"])]) == 2
    capsys.readouterr()


def test_each_change_is_in_the_audit_log_with_its_actor(site: int, engine: Engine) -> None:
    from beacon_cli.common import cli_actor
    from shared.accounts import audit

    assert main(["reports", "subscribe", "a.example", "a@example.com", "--weekly"]) == 0
    assert main(["reports", "unsubscribe", "a.example", "a@example.com"]) == 0
    assert main(["alerts", "set", "a.example", "--spike", "50"]) == 0
    assert main(["webhooks", "add", "a.example", "https://h.example/x"]) == 0
    with engine.connect() as conn:
        hook_id = next(e for e in audit.entries(conn) if e.action == "webhook.add").target
    assert main(["webhooks", "remove", "a.example", hook_id.split()[1]]) == 0
    assert main(["reports", "unsubscribe", "a.example", "a@example.com"]) == 2  # not kept
    with engine.connect() as conn:
        entries = list(audit.entries(conn))
    assert sorted(e.action for e in entries) == sorted([
        "report.subscribe", "report.unsubscribe", "alert.update", "webhook.add",
        "webhook.remove"])
    assert {(e.actor, e.source, e.site_id) for e in entries} == {(cli_actor(), "cli", site)}
