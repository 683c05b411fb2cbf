"""Breakdown widgets' keys: kept when only the comparison or the interval changes (the
browser keeps the drawn lists), new when what the lists show or filter on changes (an
old click cannot add its filter again)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dashboard_app.data import _without_comparison
from dashboard_app.frame import Frame
from dashboard_app.panels import frame_digest
from shared.stats.query import Filter, StatsQuery

BASE = Frame(site_domain="a.example", period="30d")


def test_comparison_and_interval_keep_the_keys() -> None:
    for changed in (replace(BASE, comparison="previous_period"),
                    replace(BASE, comparison="year_over_year", interval="week")):
        assert frame_digest(changed) == frame_digest(BASE)


def test_rows_that_change_make_new_keys() -> None:
    others = (replace(BASE, period="7d"), replace(BASE, site_domain="b.example"),
              BASE.with_filter(Filter("source", "is", ("Google",))), replace(BASE, segment=3))
    digests = {frame_digest(f) for f in others}
    assert len(digests) == len(others) and frame_digest(BASE) not in digests


def test_breakdowns_are_asked_without_the_comparison() -> None:
    query = StatsQuery(site_id=1, timezone="UTC", period="7d", now=datetime(2026, 3, 10),
                       filters=(Filter("page", "is", ("/",)),), comparison="previous_period")
    plain = _without_comparison(query)
    assert plain.comparison == "off"
    assert replace(plain, comparison="previous_period") == query
