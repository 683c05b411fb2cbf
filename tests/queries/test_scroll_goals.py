"""Scroll-depth goals: "visitors who scrolled at least N % of /pricing", from the
engagement events the tracker sends, on SQLite and PostgreSQL; and through the CLI."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.reports import Filter, StatsQuery, add_goal, goal_conversions
from shared.stats.query import QueryError
from tests.queries.factory import event, make_site, store

NOW = datetime(2026, 3, 12, 12, 0)
TZ = "Europe/Berlin"


def _visit(site: int, n: int, path: str, depths: list[int], country: str = "DE") -> list:
    start = datetime(2026, 3, 10, 9, n)
    rows = [event(site, start, "pageview", session=n, visitor=n, pathname=path,
                  country=country)]
    rows += [event(site, start.replace(second=10 + i), "engagement", session=n, visitor=n,
                   pathname=path, scroll_depth=d, engagement_ms=1000, country=country)
             for i, d in enumerate(depths)]
    return rows


def test_visitors_who_scrolled_far_enough_on_the_page(engine: Engine) -> None:
    site = make_site(engine, "scroll.example", TZ)
    rows = (_visit(site, 1, "/pricing", [40, 80])           # reached 75 in its second report
            + _visit(site, 2, "/pricing", [74])             # just short
            + _visit(site, 3, "/pricing", [100], "US")
            + _visit(site, 4, "/blog/x", [100])             # another page
            + _visit(site, 5, "/pricing", []))              # no engagement event at all
    store(engine, rows, {site: TZ}, NOW)
    with engine.begin() as conn:
        deep = add_goal(conn, site, page_path="/pricing", scroll_threshold=75, now=NOW)
        blog = add_goal(conn, site, page_path="/blog/**", scroll_threshold=50, now=NOW)
        visit = add_goal(conn, site, page_path="/pricing", now=NOW)
    assert (deep.kind, deep.display_name) == ("scroll", "Scroll 75% on /pricing")
    query = StatsQuery(site, TZ, "7d", NOW)
    with engine.connect() as conn:
        results = {r.goal.id: r for r in goal_conversions(conn, query)}
        german = {r.goal.id: r for r in goal_conversions(
            conn, query.with_filters(Filter("country", "is", ("DE",))))}
    assert (results[deep.id].conversions, results[deep.id].completions) == (2, 2)
    assert results[deep.id].conversion_rate == pytest.approx(40.0)
    assert results[blog.id].conversions == 1
    assert results[visit.id].conversions == 4
    assert german[deep.id].conversions == 1
    assert german[deep.id].conversion_rate == pytest.approx(25.0)    # 1 of visitors 1, 2, 4, 5


@pytest.mark.parametrize(("fields", "reason"), [
    ({"page_path": "/p", "scroll_threshold": 0}, "from 1 to 100"),
    ({"page_path": "/p", "scroll_threshold": 101}, "from 1 to 100"),
    ({"event_name": "x", "scroll_threshold": 50}, "needs a page path"),
], ids=["zero", "over-100", "event"])
def test_a_bad_scroll_goal_is_refused(engine: Engine, fields: dict, reason: str) -> None:
    site = make_site(engine, "bad.example", TZ)
    with engine.begin() as conn, pytest.raises(QueryError, match=reason):
        add_goal(conn, site, now=NOW, **fields)


def test_scroll_goals_from_the_cli(monkeypatch: pytest.MonkeyPatch, db_url: str,
                                  engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("beacon_cli.main.COMMAND_MODULES", ("beacon_cli.goals",))
    monkeypatch.setenv("DATABASE_URL", db_url)
    make_site(engine, "cli.example", TZ)
    assert main(["goals", "add", "cli.example", "--page", "/pricing", "--scroll", "75"]) == 0
    assert main(["goals", "add", "cli.example", "--page", "/p", "--scroll", "150"]) == 2
    assert "from 1 to 100" in capsys.readouterr().err
    assert main(["goals", "list", "cli.example", "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["kind"], row["match"], row["scroll"]) == ("scroll", "/pricing", "75%")
