"""Share links with hostile URL parameters (no sign-in needed): a backtracking wildcard
pattern, a period from 1900 in hours, too many filters. Each run completes (AppTest
fails on its timeout otherwise) and shows either the right rows or the reason it
refused, never a traceback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard_app.data import site_today
from shared.accounts.share_links import create_share_link
from shared.core.records import Event
from shared.ingest.events import write_events
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception, utcnow

ATTACK_PATH = "/" + "a" * 1900
ATTACK = "**a**a**a**a**!"            # never matches: the worst case for backtracking
MATCHING = "/**a**a**a**a"
GENEROUS = 120                         # seconds; a backtracking build would need days


def _share(seeded: Seeded) -> str:
    with seeded.engine.begin() as conn:
        _, token = create_share_link(conn, seeded.site.id)
    return token


def _pages(at: object) -> list[str]:
    return [v for df in at.dataframe if "Page" in df.value.columns  # type: ignore[attr-defined]
            for v in df.value["Page"].tolist()]


def test_backtracking_pattern_through_a_share_link_answers(seeded: Seeded) -> None:
    event = Event(site_id=seeded.site.id, ts=utcnow(), name="pageview", hostname=DOMAIN,
                  pathname=ATTACK_PATH, uid=9_200_001, visitor_id=1, session_id=1)
    with seeded.engine.begin() as conn:
        write_events(conn, [event.to_row()])
    token = _share(seeded)
    for pattern, shown in ((ATTACK, False), (MATCHING, True)):
        at = app_as(None, timeout=GENEROUS, share=token, f=f"page|matches|{pattern}")
        at.session_state["details_pages"] = True     # the full table under "Details"
        no_exception(at.run())
        assert not at.error
        pages = _pages(at)
        assert (ATTACK_PATH in pages) is shown
        assert all(p == ATTACK_PATH for p in pages)


@pytest.mark.parametrize(("params", "reason"), [
    ({"period": "custom", "from": "1900-01-01", "to": "2026-01-01", "interval": "hour"},
     "reports start on 2000-01-01"),
    ({"period": "custom", "from": "2020-01-01", "to": "2026-01-01", "interval": "hour"},
     "at most 10,000 are allowed"),
    ({"f": [f"page|is_not|/p{i}" for i in range(10)]
      + [f"prop:k{i}|is|v" for i in range(31)]}, "at most 30 are allowed"),
], ids=["1900-hours", "years-of-hours", "filters"])
def test_out_of_bounds_share_urls_show_the_reason(seeded: Seeded, params: dict[str, object],
                                                  reason: str) -> None:
    at = no_exception(app_as(None, timeout=GENEROUS, share=_share(seeded),
                             **params).run())  # type: ignore[arg-type]
    assert [e.value for e in at.error] == ["This report cannot be shown."]
    assert any(reason in t.value for t in at.text), [t.value for t in at.text]
    assert not at.dataframe


def test_a_far_future_end_in_a_share_url_reports_up_to_today(seeded: Seeded) -> None:
    """The period picker cannot show a day after today: the range is cut there."""
    at = app_as(None, timeout=GENEROUS, share=_share(seeded), period="custom",
                **{"from": "2024-01-01", "to": "9999-12-31"})
    at.session_state["details_pages"] = True
    no_exception(at.run())
    assert not at.error and at.dataframe
    assert at.query_params["to"] == site_today(seeded.site).isoformat()


def test_a_database_error_in_a_report_is_a_sentence_not_a_traceback(
        seeded: Seeded, caplog: pytest.LogCaptureFixture) -> None:
    """A real database error (the events table is away) while a share link's filtered
    report runs: a plain message on the page, and the log holds no SQL and no filter
    value."""
    token = _share(seeded)
    with seeded.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE events RENAME TO events_away"))
    try:
        at = app_as(None, timeout=GENEROUS, share=token, f="page|is|/private-filter-value").run()
    finally:
        with seeded.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE events_away RENAME TO events"))
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The database could not answer this report. Try again later."]
    assert "report failed in the database" in caplog.text
    assert "/private-filter-value" not in caplog.text and "SELECT" not in caplog.text
