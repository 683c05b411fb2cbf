"""`beacon mcp` with the MCP SDK's own client: every tool is listed, read-only, and
answers exactly what the Stats API v1 of a live Beacon answers for the same question."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from shared.core.clock import utc_now
from shared.reports.funnels import funnel_report, list_funnels
from shared.sites import require_site
from shared.stats.query import StatsQuery
from tests.beacon.server import ROOT
from tests.integrations.conftest import SITE, Live
from tests.integrations.mcp_session import Session, ToolFailed, run_session

TOOLS = {"list_sites", "aggregate", "timeseries", "breakdown", "realtime_visitors",
         "goal_conversions", "list_funnels", "funnel"}


def _api(live: Live, endpoint: str, **params: Any) -> tuple[int, Any]:
    status, _, body = live.server.request(
        "GET", f"/api/v1/stats/{endpoint}?" + urlencode({"site_id": SITE, **params}),
        headers={"Authorization": f"Bearer {live.token}"})
    return status, json.loads(body)


def _mcp(live: Live, tmp_path: Path, work: Any, token: str | None = None) -> Any:
    env = {**live.env, "BEACON_MCP_API_KEY": token or live.token, "HOME": str(tmp_path)}
    return run_session([sys.executable, "-m", "beacon_cli.main", "mcp"], env, str(ROOT), work)


# (tool, its arguments, the v1 endpoint and parameters asking the same)
SAME_QUESTIONS = [
    ("aggregate", {"period": "7d", "metrics": "visitors,pageviews,bounce_rate,visit_duration",
                   "compare": "previous_period"},
     "aggregate", {"period": "7d", "metrics": "visitors,pageviews,bounce_rate,visit_duration",
                   "compare": "previous_period"}),
    ("aggregate", {"filters": "visit:source==Google|Bing;event:page!=/pricing"},
     "aggregate", {"filters": "visit:source==Google|Bing;event:page!=/pricing",
                   "metrics": "visitors,visits,pageviews,bounce_rate,visit_duration"}),
    ("timeseries", {"period": "30d", "metrics": "visitors,pageviews"},
     "timeseries", {"period": "30d", "metrics": "visitors,pageviews"}),
    ("timeseries", {"period": "day"}, "timeseries", {"period": "day"}),
    ("breakdown", {"property": "visit:source", "metrics": "visitors,bounce_rate", "limit": 5},
     "breakdown", {"property": "visit:source", "metrics": "visitors,bounce_rate", "limit": 5}),
    ("breakdown", {"property": "event:props:file", "filters": "event:goal==Download"},
     "breakdown", {"property": "event:props:file", "filters": "event:goal==Download",
                   "limit": 10}),
    ("goal_conversions", {"period": "30d"},
     "breakdown", {"property": "event:goal", "metrics": "visitors,events,conversion_rate",
                   "period": "30d"}),
]


def test_every_tool_answers_what_the_stats_api_answers(live: Live, tmp_path: Path) -> None:
    async def work(s: Session) -> dict[str, Any]:
        assert set(s.tools) == TOOLS
        assert all(t.annotations and t.annotations.read_only_hint for t in s.tools.values())
        out: dict[str, Any] = {"sites": await s.call("list_sites"),
                               "realtime": await s.call("realtime_visitors", site_id=SITE),
                               "funnels": await s.call("list_funnels", site_id=SITE),
                               "funnel": await s.call("funnel", site_id=SITE,
                                                      name="Pricing to signup"),
                               "same": []}
        for tool, args, _, _ in SAME_QUESTIONS:
            out["same"].append(await s.call(tool, site_id=SITE, **args))
        return out

    got = _mcp(live, tmp_path, work)
    assert got["sites"] == {"sites": [{"domain": SITE, "timezone": "Europe/Berlin"}]}
    assert got["realtime"] == _api(live, "realtime/visitors")[1] == 3
    for answer, (_, _, endpoint, params) in zip(got["same"], SAME_QUESTIONS, strict=True):
        status, expected = _api(live, endpoint, **params)
        assert status == 200, expected
        assert answer == expected, (endpoint, params)
    assert got["same"][0]["results"]["visitors"]["value"] > 0
    assert got["same"][-1]["results"], "the demo converts on its goals"
    assert [f["name"] for f in got["funnels"]["funnels"]] == ["Pricing to signup"]
    with live.engine.connect() as conn:
        site = require_site(conn, SITE)
        q = StatsQuery(site.id, site.timezone, "30d", utc_now())
        report = funnel_report(conn, q, list_funnels(conn, site.id)[0])
    assert [r["visitors"] for r in got["funnel"]["results"]] == [s.visitors for s in report.steps]
    assert report.steps[0].visitors > 0


def test_refusals_are_tool_errors_in_v1_words(live: Live, tmp_path: Path) -> None:
    async def work(s: Session) -> list[str]:
        errors = []
        for name, args in [("aggregate", {"site_id": "other.example"}),
                           ("aggregate", {"site_id": SITE, "period": "year"}),
                           ("breakdown", {"site_id": SITE, "property": "visit:planet"}),
                           ("funnel", {"site_id": SITE, "name": "nope"})]:
            with pytest.raises(ToolFailed) as failed:
                await s.call(name, **args)
            errors.append(str(failed.value))
        return errors

    errors = _mcp(live, tmp_path, work)
    assert "Invalid API key or site ID" in errors[0]
    assert "invalid period `year`" in errors[1]
    assert "Invalid property 'visit:planet'" in errors[2]
    assert "The funnel `nope` is not configured" in errors[3]


def test_beacon_mcp_refuses_to_start_without_a_valid_key(live: Live, tmp_path: Path) -> None:
    import subprocess

    for key in ("", "bk_live_unknown"):
        env = {**live.env, "BEACON_MCP_API_KEY": key}
        done = subprocess.run([sys.executable, "-m", "beacon_cli.main", "mcp"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and "BEACON_MCP_API_KEY" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
