"""Site search: the term of a page's query parameters (the site's own names), stored
without the rest of the query; the report of terms and their pages - on SQLite and
PostgreSQL, through the beacon's real pipeline and the query layer."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from beacon_app.enrichment.site_search import search_term
from beacon_cli.main import main
from shared.core.settings import Settings
from shared.reports import Filter, StatsQuery, breakdown
from shared.sites import SEARCH_PARAMS, SiteError, add_site, require_site, update_site
from tests.beacon.helpers import browser_headers, make_app, stored_events

NOW = datetime(2026, 3, 10, 12, 0)


@pytest.mark.parametrize(("query", "params", "expected"), [
    ({"q": "Pricing "}, SEARCH_PARAMS, "pricing"),
    ({"Q": "a  b\tc"}, SEARCH_PARAMS, "a b c"),
    ({"s": "", "query": "second"}, SEARCH_PARAMS, "second"),
    ({"utm_source": "x"}, SEARCH_PARAMS, ""),
    ({"term": "own"}, ("term",), "own"),
    ({"q": "ignored"}, ("term",), ""),
    ({"q": "off"}, (), ""),
    ({"q": "\u202eevil\u0000"}, SEARCH_PARAMS, "evil"),
    ({"q": "x" * 400}, SEARCH_PARAMS, "x" * 300),
], ids=["default", "case-space", "first-non-empty", "none", "own-name", "not-own",
        "off", "unsafe", "capped"])
def test_the_term_of_a_query(query: dict, params: tuple, expected: str) -> None:
    assert search_term(query, params) == expected


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(settings, clock=lambda: NOW)


def _hit(app: Flask, url: str) -> None:
    body = {"n": "pageview", "u": url, "d": "example.com"}
    assert app.test_client().post("/api/event", json=body,
                                  headers=browser_headers()).status_code == 202


def test_terms_are_stored_without_the_rest_of_the_query(app: Flask) -> None:
    _hit(app, "https://example.com/search?q=Privacy+Policy&session=secret&page=2")
    _hit(app, "https://example.com/blog?s=setup")
    _hit(app, "https://example.com/?ref=x")
    rows = stored_events(app)
    assert [(r["pathname"], r["search_term"]) for r in rows] == [
        ("/search", "privacy policy"), ("/blog", "setup"), ("/", "")]
    assert not any("secret" in str(v) for r in rows for v in r.values())


def test_the_site_chooses_its_parameters(settings: Settings) -> None:
    app = make_app(settings, clock=lambda: NOW, search_params=["Term"])
    _hit(app, "https://example.com/find?term=Shoes&q=not-this")
    assert [r["search_term"] for r in stored_events(app)] == ["shoes"]


def test_the_report_of_terms_and_their_pages(engine: Engine) -> None:
    from tests.queries.factory import event, make_site, store

    site = make_site(engine, "s.example", "UTC")
    rows = [event(site, datetime(2026, 3, 9, 10, n), "pageview", session=n, visitor=n,
                  pathname=path, search_term=term, device=device)
            for n, (path, term, device) in enumerate([
                ("/search", "pricing", "mobile"), ("/search", "pricing", "desktop"),
                ("/docs", "pricing", "desktop"), ("/search", "api", "desktop"),
                ("/", "", "desktop")])]
    store(engine, rows, {site: "UTC"}, NOW)
    q = StatsQuery(site, "UTC", "7d", NOW, filters=(Filter("search_term", "is_not", ("",)),))
    with engine.connect() as conn:
        terms = breakdown(conn, q, "search_term")
        pages = breakdown(conn, q.with_filters(Filter("search_term", "is", ("pricing",))),
                          "page")
        mobile = breakdown(conn, q.with_filters(Filter("device", "is", ("mobile",))),
                           "search_term")
    assert [(r.value, r.metrics.visitors, r.metrics.pageviews) for r in terms.rows] == [
        ("pricing", 3, 3), ("api", 1, 1)]
    assert [(r.value, r.metrics.pageviews) for r in pages.rows] == [("/search", 2),
                                                                   ("/docs", 1)]
    assert [r.value for r in mobile.rows] == ["pricing"]
    assert terms.source == "raw"


def test_bad_parameter_names_are_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        add_site(conn, "p.example")
        with pytest.raises(SiteError, match="not a query"):
            update_site(conn, "p.example", search_params=["has space"])
        assert update_site(conn, "p.example", search_params=[]).search_params == ()
        assert require_site(conn, "p.example").search_params == ()


def test_search_params_from_the_cli(monkeypatch: pytest.MonkeyPatch, db_url: str,
                                   engine: Engine) -> None:
    monkeypatch.setattr("beacon_cli.main.COMMAND_MODULES", ("beacon_cli.sites",))
    monkeypatch.setenv("DATABASE_URL", db_url)
    with engine.begin() as conn:
        add_site(conn, "c.example")
        assert require_site(conn, "c.example").search_params == SEARCH_PARAMS
    assert main(["sites", "update", "c.example", "--search-params", "q,Term"]) == 0
    with engine.connect() as conn:
        assert require_site(conn, "c.example").search_params == ("q", "term")
    assert main(["sites", "update", "c.example", "--search-params", "off"]) == 0
    with engine.connect() as conn:
        assert require_site(conn, "c.example").search_params == ()
