"""Dashboard: saved segments (sidebar, URL, the page that manages them), annotations on
the Overview's chart and their page, the screen-size panel - on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from shared.accounts.users import get_user
from shared.core import schema
from shared.reports import Filter, StatsQuery, totals
from shared.reports.annotations import add_annotation, list_annotations
from shared.reports.segments import add_segment, list_segments
from shared.stats.dimensions import VISIT_DIMENSIONS
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception, utcnow

DE = (Filter("country", "is", ("DE",)),)


def _visitors(seeded: Seeded, filters: tuple = ()) -> str:
    q = StatsQuery(site_id=seeded.site.id, timezone=seeded.site.timezone, period="30d",
                   now=utcnow(), filters=filters)
    with seeded.engine.connect() as conn:
        return f"{totals(conn, q).metrics.visitors:,.0f}"


def _segment(seeded: Seeded, owner: str, shared: bool, filters: tuple = DE) -> int:
    with seeded.engine.begin() as conn:
        user = get_user(conn, owner)
        assert user is not None
        return add_segment(conn, seeded.site.id, f"{owner} segment", filters,
                           owner_id=user.id, shared=shared, now=utcnow()).id


def test_a_segment_in_the_url_filters_the_overview(seeded: Seeded) -> None:
    seg = _segment(seeded, "admin@example.com", shared=True)
    at = no_exception(app_as("admin@example.com", site=DOMAIN, segment=str(seg)).run())
    got = {m.label: m.value for m in at.metric}["Unique visitors"]
    assert got == _visitors(seeded, DE) != _visitors(seeded)
    assert at.sidebar.selectbox(key="sb_segment").value == seg


def test_a_private_segment_is_not_anyone_elses(seeded: Seeded) -> None:
    seg = _segment(seeded, "admin@example.com", shared=False)
    at = no_exception(app_as("viewer@example.com", site=DOMAIN, segment=str(seg)).run())
    assert any(f"no segment {seg} on this site" in t.value for t in at.text)
    assert not at.metric
    # the owner sees it, in the picker too
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    assert seg in at.sidebar.selectbox(key="sb_segment").options or any(
        "admin@example.com segment" in o for o in at.sidebar.selectbox(key="sb_segment").options)


def test_picking_a_segment_and_saving_filters_as_one(seeded: Seeded) -> None:
    seg = _segment(seeded, "viewer@example.com", shared=False)
    at = no_exception(app_as("viewer@example.com", site=DOMAIN).run())
    at.sidebar.selectbox(key="sb_segment").set_value(seg).run()
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Unique visitors"] == _visitors(seeded, DE)
    assert at.query_params["segment"] in (str(seg), [str(seg)])
    # with a filter set, save it as a shared segment: the frame then holds the segment
    at = no_exception(app_as("viewer@example.com", site=DOMAIN, f="device|is|mobile").run())
    at.sidebar.text_input[-1].input("Mobile people")
    at.sidebar.checkbox[-1].check()
    at.sidebar.button[-1].click().run()
    no_exception(at)
    with seeded.engine.connect() as conn:
        saved = [s for s in list_segments(conn, seeded.site.id, is_admin=True)
                 if s.name == "Mobile people"]
    assert len(saved) == 1 and saved[0].shared
    assert saved[0].filters == (Filter("device", "is", ("mobile",)),)
    assert at.query_params["segment"] in (str(saved[0].id), [str(saved[0].id)])


def test_annotations_are_drawn_on_the_chart_as_text(seeded: Seeded) -> None:
    today = utcnow().date()
    with seeded.engine.begin() as conn:
        add_annotation(conn, seeded.site.id, today - timedelta(days=3),
                       "<img src=x onerror=alert(1)> launch", now=utcnow())
        add_annotation(conn, seeded.site.id, today - timedelta(days=9), "Sale",
                       last_day=today - timedelta(days=6), now=utcnow())
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    [chart] = [c for c in at.get("plotly_chart") if '"Annotations"' in c.proto.spec]
    spec = chart.proto.spec
    assert "&lt;img src=x onerror=alert(1)&gt; launch" in spec and "<img" not in spec
    assert '"type":"rect"' in spec.replace(" ", "") and '"type":"line"' in spec.replace(" ", "")


def test_the_notes_page_adds_an_annotation(seeded: Seeded) -> None:
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    at.switch_page("views/notes.py").run()
    no_exception(at)
    at.text_area[0].input("New pricing page")
    [save] = [b for b in at.button if b.label == "Save annotation"]
    save.click().run()
    no_exception(at)
    with seeded.engine.connect() as conn:
        notes = list_annotations(conn, seeded.site.id)
    assert [(n.text, n.author) for n in notes] == [("New pricing page", "admin@example.com")]
    # a viewer sees the notes but gets no form to change them
    at = no_exception(app_as("viewer@example.com", site=DOMAIN).run())
    at.switch_page("views/notes.py").run()
    no_exception(at)
    assert not [b for b in at.button if b.label == "Save annotation"]
    assert any("New pricing page" in str(df.value.values) for df in at.dataframe)


def test_screen_size_is_a_stored_visit_column_and_an_overview_tab(seeded: Seeded) -> None:
    assert "screen_size" in VISIT_DIMENSIONS
    with seeded.engine.connect() as conn:
        sizes = {r[0] for r in conn.execute(sa.select(schema.events.c.screen_size).distinct())}
    assert sizes >= {"mobile", "desktop"}
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    assert "Screen sizes" in [t.label for t in at.tabs]


def test_the_site_search_page_lists_terms_and_their_pages(seeded: Seeded) -> None:
    from tests.queries.factory import event, store

    day = utcnow().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    rows = [event(seeded.site.id, day.replace(minute=n), "pageview", session=10**6 + n,
                  visitor=10**6 + n, pathname=path, search_term=term)
            for n, (path, term) in enumerate([("/search", "<b>pricing</b>"),
                                              ("/search", "<b>pricing</b>"), ("/docs", "api")])]
    store(seeded.engine, rows, {seeded.site.id: seeded.site.timezone}, utcnow())
    at = no_exception(app_as("admin@example.com", site=DOMAIN).run())
    at.switch_page("views/search.py").run()
    no_exception(at)
    tables = {df.value.columns[0]: list(df.value.iloc[:, 0]) for df in at.dataframe}
    assert tables["Search term"] == ["<b>pricing</b>", "api"]     # as text, never markup
    assert tables["Page"] == ["/search", "/docs"]
    at = no_exception(app_as("admin@example.com", site=DOMAIN,
                             f="search_term|is|api").run())
    at.switch_page("views/search.py").run()
    tables = {df.value.columns[0]: list(df.value.iloc[:, 0]) for df in no_exception(at).dataframe}
    assert tables["Page"] == ["/docs"]


def test_the_segment_travels_in_the_url() -> None:
    from dashboard_app.frame import from_params, to_params

    frame = from_params({"site": ["a.example"], "segment": ["12"], "f": ["country|is|DE"]})
    assert frame.segment == 12 and frame.filters == DE
    assert to_params(frame)["segment"] == "12"
    for bad in ("x", "-1", "1" * 13, ""):
        assert from_params({"segment": [bad]}).segment is None
    assert "segment" not in to_params(from_params({}))


def test_annotations_on_a_chart_are_escaped_text() -> None:
    from datetime import datetime

    import pandas as pd

    from dashboard_app import charts

    df = pd.DataFrame({"bucket": pd.date_range("2026-03-01", periods=5), "visitors": range(5)})
    notes = [(datetime(2026, 3, 2), datetime(2026, 3, 2), "<b>x</b>"),
             (datetime(2026, 3, 3), datetime(2026, 3, 4, 23, 59), "Sale")]
    fig = charts.timeseries(df, "visitors", "Visitors", notes=notes)
    marks = [t for t in fig.data if t.name == "Annotations"]
    assert len(marks) == 1 and list(marks[0].customdata) == ["&lt;b&gt;x&lt;/b&gt;", "Sale"]
    assert [s.type for s in fig.layout.shapes] == ["line", "rect"]
    assert not [t for t in charts.timeseries(df, "visitors", "V").data if t.name == "Annotations"]
