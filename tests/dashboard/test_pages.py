"""Every page renders on seeded data, and its headline numbers are the query layer's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboard_app import formats
from dashboard_app.tables import NONE_LABEL
from dashboard_app.ui import fmt_int
from shared.reports import Filter, StatsQuery, breakdown, totals
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception, utcnow

PAGES = ["views/overview.py", "views/realtime.py", "views/goals.py", "views/events.py",
         "views/settings.py", "views/privacy.py", "views/export.py", "views/bots.py",
         "views/notifications.py", "views/account.py", "views/notes.py"]


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _expected(seeded: Seeded, period: str = "30d", filters: tuple = ()) -> dict[str, str]:
    q = StatsQuery(site_id=seeded.site.id, timezone=seeded.site.timezone, period=period,
                   now=utcnow(), filters=filters)
    with seeded.engine.connect() as conn:
        m = totals(conn, q).metrics
    return {"Unique visitors": fmt_int(m.visitors), "Visits": fmt_int(m.visits),
            "Pageviews": fmt_int(m.pageviews)}


def _headline(at) -> dict[str, str]:
    got = _metrics(at)
    return {k: got[k] for k in ("Unique visitors", "Visits", "Pageviews")}


def test_overview_numbers_equal_query_layer(seeded: Seeded) -> None:
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    expected = _expected(seeded)
    assert expected["Visits"] != "0"
    assert _headline(at) == expected


def test_period_and_filter_in_url_change_numbers(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        q = StatsQuery(site_id=seeded.site.id, timezone="UTC", period="7d", now=utcnow())
        top_source = breakdown(conn, q, "source", limit=1).rows[0].value
    at = no_exception(app_as("admin@example.com", site=DOMAIN, period="7d",
                             f=f"source|is|{top_source}").run())
    f = (Filter("source", "is", (top_source,)),)
    assert _headline(at) == _expected(seeded, "7d", f)
    assert _headline(at) != _expected(seeded, "7d")


def test_filtered_overview_tables_are_the_query_layers_breakdowns(seeded: Seeded) -> None:
    # Two filters: no daily rollup answers the tables, which share one read of the visits.
    with seeded.engine.connect() as conn:
        q = StatsQuery(site_id=seeded.site.id, timezone="UTC", period="7d", now=utcnow())
        top_source = breakdown(conn, q, "source", limit=1).rows[0].value
    f = (Filter("source", "is", (top_source,)), Filter("country", "is_not", ("XX",)))
    at = no_exception(app_as("admin@example.com", site=DOMAIN, period="7d",
                             f=[f"source|is|{top_source}", "country|is_not|XX"]).run())
    q = StatsQuery(site_id=seeded.site.id, timezone=seeded.site.timezone, period="7d",
                   now=utcnow(), filters=f)
    # The open tab of each panel is a ranked list (a Plotly chart keyed list_<widget>);
    # the others are read when they are opened.
    lists = _ranked_lists(at)
    with seeded.engine.connect() as conn:
        for dimension, widget in (("page", "pages"), ("source", "sources"),
                                  ("country", "countries"), ("device", "device")):
            rows = breakdown(conn, q, dimension, limit=10).rows
            assert rows, dimension
            shown = lists[widget]
            if dimension == "country":
                assert shown == [formats.country_name(r.value) if r.value else NONE_LABEL
                                 for r in rows]
            else:
                assert shown == [r.value or NONE_LABEL for r in rows], dimension


def _ranked_lists(at: Any) -> dict[str, list[str]]:
    """widget key -> the rows of its ranked list, read from the chart sent to the page."""
    found = {}
    for element in at.get("plotly_chart"):
        key = getattr(element.proto, "id", "") or ""
        spec = json.loads(element.proto.spec)
        for name in ("pages", "sources", "countries", "device"):
            if f"list_{name}_" in key:
                found[name] = list(spec["data"][0]["customdata"])
    return found


def test_period_widget_changes_numbers(seeded: Seeded) -> None:
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    at.sidebar.selectbox(key="sb_period").select("7d").run()
    no_exception(at)
    assert _headline(at) == _expected(seeded, "7d")
    assert at.query_params["period"] in ("7d", ["7d"])


@pytest.mark.parametrize("page", PAGES, ids=[p.split("/")[1][:-3] for p in PAGES])
def test_every_page_renders(seeded: Seeded, page: str) -> None:
    at = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    at.switch_page(page).run()
    no_exception(at)
    assert at.title or at.metric


def test_fresh_install_admin_adds_a_site(engine, db_url: str, monkeypatch) -> None:
    from shared.accounts import users as auth
    from tests.dashboard.conftest import PASSWORD

    monkeypatch.setenv("DATABASE_URL", db_url)
    with engine.begin() as conn:
        auth.add_user(conn, "admin@example.com", PASSWORD, is_admin=True)
    at = no_exception(app_as("admin@example.com").run())
    assert at.title[0].value == "Sites & settings" and not at.metric
    at.text_input[0].input("new.example")
    next(b for b in at.button if b.label == "Add site").click().run()
    no_exception(at)
    at.run()  # the new site now has report pages: the overview shows its empty state
    at.switch_page("views/overview.py").run()
    assert any(h.value == "Waiting for the first event" for h in at.subheader)
    assert any('data-domain="new.example"' in c.value for c in at.code)
