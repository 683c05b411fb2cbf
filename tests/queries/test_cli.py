"""`beacon goals|funnels|rollup|worker` against a real database."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.core import schema
from shared.jobs.worker import run_worker
from shared.reports import list_funnels, list_goals
from tests.queries.factory import event, make_site, store


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, engine: Engine) -> int:
    monkeypatch.setattr("beacon_cli.main.COMMAND_MODULES",
                        ("beacon_cli.goals", "beacon_cli.rollup"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return make_site(engine, "a.example", "Europe/Berlin")


def test_goals_and_funnels(cli_env: int, engine: Engine, capsys) -> None:
    assert main(["goals", "add", "a.example", "--page", "/blog/**"]) == 0
    assert main(["goals", "add", "a.example", "--event", "signup", "--prop", "plan=pro"]) == 0
    capsys.readouterr()
    assert main(["goals", "list", "a.example", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["kind"], r["match"], r["prop"]) for r in rows] == [
        ("page", "/blog/**", ""), ("event", "signup", "plan=pro")]
    assert main(["goals", "remove", "a.example", str(rows[0]["id"])]) == 0
    assert main(["goals", "remove", "a.example", "999"]) == 2
    assert main(["funnels", "add", "a.example", "Buy", "--step", "page:/",
                 "--step", "event:buy"]) == 0
    assert main(["funnels", "add", "a.example", "One", "--step", "page:/"]) == 2
    assert "2 to 8 steps" in capsys.readouterr().err
    with engine.connect() as conn:
        assert [g.event_name for g in list_goals(conn, cli_env)] == ["signup"]
        funnel = list_funnels(conn, cli_env)[0]
    assert [s.value for s in funnel.steps] == ["/", "buy"]
    assert main(["funnels", "remove", "a.example", str(funnel.id)]) == 0


def _rollup_days(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return sorted({r.day for r in conn.execute(sa.select(schema.daily_rollups.c.day))})


def test_rollup_command_and_worker(cli_env: int, engine: Engine, capsys) -> None:
    now = datetime(2026, 3, 10, 12)
    store(engine, [event(cli_env, datetime(2026, 3, 8, 23, 30), "pageview", 1, 1),
                   event(cli_env, datetime(2026, 3, 9, 10), "pageview", 2, 2)],
          {cli_env: "Europe/Berlin"}, now)
    assert run_worker(engine, 0.0, max_rounds=1) == 1            # rebuilds the dirty days
    assert _rollup_days(engine) == [date(2026, 3, 9)]            # 23:30 UTC = 00:30 local
    with engine.begin() as conn:
        conn.execute(schema.daily_rollups.delete())
    assert main(["rollup", "--site", "a.example", "--all"]) == 0
    assert "rebuilt 1 day(s)" in capsys.readouterr().out
    assert _rollup_days(engine) == [date(2026, 3, 9)]
    assert main(["rollup"]) == 0 and "rebuilt 0 dirty" in capsys.readouterr().out
