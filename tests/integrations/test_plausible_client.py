"""A published third-party Plausible client against a live Beacon: `plausible-mcp` (PyPI),
an MCP server that reads Plausible's Stats API v1, pointed at Beacon with
PLAUSIBLE_BASE_URL and driven by the MCP SDK's client. Its records must equal the query
layer's numbers. Its telemetry is switched off (DO_NOT_TRACK=1), and every request it
would send anywhere but Beacon goes to a local trap that the test checks stayed unused."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.core.clock import to_local, utc_now
from shared.reports import traffic as reports
from shared.sites import require_site
from shared.stats.query import StatsQuery
from tests.beacon.server import ROOT
from tests.integrations.conftest import SITE, Live
from tests.integrations.mcp_session import Session, run_session


class Trap:
    """A proxy that answers nothing and counts who tried to go out through it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.attempts = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.attempts += 1
            conn.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.sock.close()


def _client(live: Live, trap: Trap, home: Path, work: Any) -> Any:
    proxy = f"http://127.0.0.1:{trap.port}"
    env = {"PLAUSIBLE_BASE_URL": live.url, "PLAUSIBLE_API_KEY": live.token,
           "DO_NOT_TRACK": "1", "MCP_TELEMETRY_OPT_OUT": "1", "HOME": str(home),
           "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "http_proxy": proxy,
           "https_proxy": proxy, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return run_session([sys.executable, "-m", "plausible_mcp.server"], env, str(ROOT), work)


def _query(live: Live, first: date, last: date, interval: str | None = None) -> StatsQuery:
    with live.engine.connect() as conn:
        site = require_site(conn, SITE)
    return StatsQuery(site.id, site.timezone, "custom", utc_now(), start=first, end=last,
                      interval=interval)


def test_plausible_mcp_records_equal_the_query_layer(live: Live, trap: Trap,
                                                     tmp_path: Path) -> None:
    today = to_local(utc_now(), ZoneInfo("Europe/Berlin")).date()
    custom = f"{today - timedelta(days=13)},{today}"

    async def work(s: Session) -> dict[str, Any]:
        return {
            "doctor": await s.call("doctor"),
            "totals": await s.call("get_aggregate_stats", site_id=SITE, date_range="30d",
                                   metrics=["visitors", "visits", "pageviews", "bounce_rate",
                                            "visit_duration"]),
            "custom": await s.call("get_aggregate_stats", site_id=SITE, date_range=custom),
            "sources": await s.call("get_breakdown", site_id=SITE, property_name="source",
                                    date_range="7d", limit=5),
            "pages": await s.call("get_breakdown", site_id=SITE, property_name="page"),
            "realtime": await s.call("get_realtime_visitors", site_id=SITE),
            "daily": await s.call("get_timeseries", site_id=SITE, date_range="30d"),
            "monthly": await s.call("get_timeseries", site_id=SITE, date_range="12mo",
                                    interval="month"),
        }

    got = _client(live, trap, tmp_path, work)
    with live.engine.connect() as conn:
        m30 = reports.totals(conn, _query(live, today - timedelta(days=29), today)).metrics
        m14 = reports.totals(conn, _query(live, today - timedelta(days=13), today)).metrics
        sources = reports.breakdown(conn, _query(live, today - timedelta(days=6), today),
                                    "source", limit=5).rows
        pages = reports.breakdown(conn, _query(live, today - timedelta(days=29), today),
                                  "page", limit=20).rows
        daily = reports.timeseries(conn, _query(live, today - timedelta(days=29), today,
                                                "day")).points
        first_month = date(today.year - (today.month < 12), (today.month % 12) + 1, 1)
        monthly = reports.timeseries(conn, _query(live, first_month, today, "month")).points

    assert got["doctor"]["status"] == "healthy" and SITE in got["doctor"]["sample_sites"]
    assert m30.visitors > 0
    assert got["totals"]["totals"] == {
        "visitors": m30.visitors, "visits": m30.visits, "pageviews": m30.pageviews,
        "bounce_rate": round(m30.bounce_rate), "visit_duration": round(m30.visit_duration)}
    assert got["custom"]["period"] == "custom"
    assert got["custom"]["totals"] == {"visitors": m14.visitors, "pageviews": m14.pageviews,
                                       "bounce_rate": round(m14.bounce_rate),
                                       "visit_duration": round(m14.visit_duration)}
    assert got["sources"]["results"] == [{"source": r.value or "Direct / None",
                                          "visitors": r.metrics.visitors} for r in sources]
    assert got["pages"]["results"] == [{"page": r.value, "visitors": r.metrics.visitors}
                                       for r in pages]
    assert got["realtime"]["realtime_visitors"] == 3
    assert got["daily"]["timeseries"] == [{"date": p.bucket.date().isoformat(),
                                           "visitors": p.metrics.visitors} for p in daily]
    assert [(r["date"], r["visitors"]) for r in got["monthly"]["timeseries"]][-len(monthly):] \
        == [(p.bucket.date().isoformat(), p.metrics.visitors) for p in monthly]
    assert len(got["monthly"]["timeseries"]) == 12
    assert trap.attempts == 0, "the client tried to reach something besides Beacon"
    assert not (tmp_path / ".plausible-mcp" / "installation_id").exists()


def test_plausible_mcp_reports_a_wrong_key_as_an_authentication_failure(
        live: Live, trap: Trap, tmp_path: Path) -> None:
    live.token = "bk_live_not-a-key"  # noqa: S105 - a wrong key on purpose

    async def work(s: Session) -> Any:
        return await s.call("get_aggregate_stats", site_id=SITE)

    assert "Authentication failed (HTTP 401)" in _client(live, trap, tmp_path, work)
    assert trap.attempts == 0
