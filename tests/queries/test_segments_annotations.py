"""Segments (saved filter sets, private or shared) and annotations (notes on days), on
SQLite and PostgreSQL: what is stored, who sees what, and the reasons bad input is refused."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.accounts import audit
from shared.reports import Filter, StatsQuery, totals
from shared.reports.annotations import (
    add_annotation,
    list_annotations,
    remove_annotation,
    update_annotation,
)
from shared.reports.segments import (
    add_segment,
    filters_from_json,
    get_segment,
    list_segments,
    may_edit,
    remove_segment,
    segment_filters,
    update_segment,
)
from shared.stats.query import QueryError
from tests.queries.factory import event, make_site, store

NOW = datetime(2026, 3, 12, 12, 0)
DE_GOOGLE = (Filter("country", "is", ("DE",)), Filter("source", "is", ("Google",)))


def test_segments_are_private_or_shared_and_filter_like_their_filters(engine: Engine) -> None:
    site = make_site(engine, "seg.example", "Europe/Berlin")
    other = make_site(engine, "other.example", "UTC")
    rows = [event(site, datetime(2026, 3, 10, 9, n), "pageview", session=n, visitor=n,
                  country=c, referrer_source=s)
            for n, (c, s) in enumerate([("DE", "Google"), ("DE", "Bing"), ("US", "Google")])]
    store(engine, rows, {site: "Europe/Berlin"}, NOW)
    with engine.begin() as conn:
        mine = add_segment(conn, site, "  German   Google ", DE_GOOGLE, owner_id=1,
                           shared=False, now=NOW)
        team = add_segment(conn, site, "Google", DE_GOOGLE[1:], owner_id=2, shared=True,
                           now=NOW)
    assert mine.name == "German Google" and mine.filters == DE_GOOGLE
    with engine.connect() as conn:
        assert [s.name for s in list_segments(conn, site, user_id=1)] == [
            "German Google", "Google"]
        assert [s.name for s in list_segments(conn, site, user_id=2)] == ["Google"]
        assert [s.name for s in list_segments(conn, site)] == ["Google"]   # API key, share
        assert len(list_segments(conn, site, user_id=2, is_admin=True)) == 2
        assert list_segments(conn, other, user_id=1) == []
        with pytest.raises(QueryError, match=f"no segment {mine.id}"):
            get_segment(conn, site, mine.id, user_id=2)
        with pytest.raises(QueryError, match=f"no segment {team.id}"):
            get_segment(conn, other, team.id, user_id=2)      # another site's id
        q = StatsQuery(site, "Europe/Berlin", "7d", NOW)
        filters = segment_filters(conn, site, [mine.id], user_id=1)
        assert totals(conn, q.with_filters(*filters)).metrics.visitors == 1
        filters = segment_filters(conn, site, [team.id])
        assert totals(conn, q.with_filters(*filters)).metrics.visitors == 2
    assert may_edit(mine, user_id=1, is_admin=False, is_site_owner=False)
    assert not may_edit(mine, user_id=2, is_admin=False, is_site_owner=True)
    assert may_edit(team, user_id=1, is_admin=False, is_site_owner=True)
    assert not may_edit(team, user_id=1, is_admin=False, is_site_owner=False)
    with engine.begin() as conn:
        changed = update_segment(conn, mine, name="DE", shared=True,
                                 filters=DE_GOOGLE[:1], now=NOW)
        assert (changed.name, changed.shared, changed.filters) == ("DE", True, DE_GOOGLE[:1])
        remove_segment(conn, changed)
        assert [s.id for s in list_segments(conn, site, is_admin=True)] == [team.id]


@pytest.mark.parametrize(("name", "filters", "reason"), [
    ("", [["country", "is", ["DE"]]], "needs a name"),
    ("x" * 201, [["country", "is", ["DE"]]], "at most 200"),
    ("ok", [], "non-empty list of filters"),
    ("ok", [["planet", "is", ["Mars"]]], "unknown dimension"),
    ("ok", [["country", "near", ["DE"]]], "unknown filter operator"),
    ("ok", [["country", "is"]], "looks like"),
    ("ok", [["country", "is", []]], "one or more values"),
], ids=["no-name", "long-name", "no-filters", "dimension", "operator", "shape", "values"])
def test_a_bad_segment_is_refused_with_its_reason(engine: Engine, name: str, filters: list,
                                                  reason: str) -> None:
    site = make_site(engine, "bad.example", "UTC")
    with engine.begin() as conn, pytest.raises(QueryError, match=reason):
        add_segment(conn, site, name, filters_from_json(filters), owner_id=None, shared=True,
                    now=NOW)
    with engine.connect() as conn:
        assert list_segments(conn, site, is_admin=True) == []


def test_annotations_on_days_and_ranges(engine: Engine) -> None:
    site = make_site(engine, "notes.example", "UTC")
    with engine.begin() as conn:
        launch = add_annotation(conn, site, date(2026, 3, 2), "Launch <b>v2</b>\u202e",
                                author="ann@example.com", now=NOW)
        outage = add_annotation(conn, site, date(2026, 2, 20), "Tracking down",
                                last_day=date(2026, 3, 5), now=NOW)
        add_annotation(conn, site, date(2026, 4, 1), "Later", now=NOW)
    assert launch.text == "Launch <b>v2</b>"          # kept as text; bidi control removed
    assert launch.last_day == launch.first_day
    with engine.connect() as conn:
        march = list_annotations(conn, site, date(2026, 3, 1), date(2026, 3, 31))
        assert [a.text for a in march] == ["Tracking down", "Launch <b>v2</b>"]
        assert [a.text for a in list_annotations(conn, site, date(2026, 3, 6))] == ["Later"]
    with engine.begin() as conn:
        moved = update_annotation(conn, site, outage.id, first_day=date(2026, 3, 3))
        assert (moved.first_day, moved.last_day) == (date(2026, 3, 3), date(2026, 3, 3))
        assert update_annotation(conn, site, launch.id, text="Launch").text == "Launch"
        remove_annotation(conn, site, launch.id)
        with pytest.raises(QueryError, match=f"no annotation {launch.id}"):
            remove_annotation(conn, site, launch.id)


@pytest.mark.parametrize(("first", "last", "text", "reason"), [
    (date(2026, 3, 2), date(2026, 3, 1), "x", "before its start"),
    (date(1999, 12, 31), None, "x", "at the earliest"),
    (date(2026, 3, 2), None, " \n\t", "needs some text"),
    (date(2026, 3, 2), None, "x" * 501, "at most 500"),
], ids=["backwards", "too-early", "blank", "long"])
def test_a_bad_annotation_is_refused_with_its_reason(engine: Engine, first: date,
                                                     last: date | None, text: str,
                                                     reason: str) -> None:
    site = make_site(engine, "badnotes.example", "UTC")
    with engine.begin() as conn, pytest.raises(QueryError, match=reason):
        add_annotation(conn, site, first, text, last_day=last, now=NOW)


def test_annotations_cli(monkeypatch: pytest.MonkeyPatch, db_url: str, engine: Engine,
                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("beacon_cli.main.COMMAND_MODULES", ("beacon_cli.annotations",))
    monkeypatch.setenv("DATABASE_URL", db_url)
    make_site(engine, "cli.example", "UTC")
    assert main(["annotations", "add", "cli.example", "New pricing", "--date",
                 "2026-03-02"]) == 0
    assert main(["annotations", "add", "cli.example", "Sale", "--date", "2026-03-05",
                 "--to", "2026-03-08", "--author", "ops"]) == 0
    assert "added annotation" in capsys.readouterr().out
    assert main(["annotations", "list", "cli.example", "--json", "--from", "2026-03-06"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["text"], r["date"], r["end_date"], r["author"]) for r in rows] == [
        ("Sale", "2026-03-05", "2026-03-08", "ops")]
    assert main(["annotations", "edit", "cli.example", str(rows[0]["id"]), "--text",
                 "Spring sale"]) == 0
    assert main(["annotations", "add", "cli.example", "x", "--date", "2026-03-05",
                 "--to", "2026-03-01"]) == 2
    assert "before its start" in capsys.readouterr().err
    assert main(["annotations", "remove", "cli.example", "999"]) == 2
    assert "no annotation 999" in capsys.readouterr().err
    assert main(["annotations", "list", "nope.example"]) == 2
    assert main(["annotations", "remove", "cli.example", str(rows[0]["id"])]) == 0
    with engine.connect() as conn:
        logged = [e.action for e in audit.entries(conn) if e.source == "cli"]
    assert sorted(logged) == ["annotation.add", "annotation.add", "annotation.remove",
                              "annotation.update"]
