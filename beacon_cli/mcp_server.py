"""`beacon mcp`: a Model Context Protocol server on stdio, answering questions about a
site's traffic with the Stats API v1's own answers.

Read-only and scoped by one API key (`BEACON_MCP_API_KEY`): every tool opens the
database, checks that the key may read the site asked about, and answers through
`shared.api_v1` - the code behind `/api/v1/stats/*` - so a tool and the Stats API answer
the same question alike. It talks to the database and to its client on stdin/stdout,
and to nothing else.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from beacon_cli.common import settings_and_engine
from shared.api_v1 import access, answers
from shared.api_v1 import funnels as funnel_answers
from shared.api_v1.errors import V1Error
from shared.api_v1.params import parse_params
from shared.core.clock import to_local, utc_now
from shared.sites import Site, list_sites
from shared.stats.errors import QueryError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

T = TypeVar("T")
PERIOD_HELP = ("period: day, 7d, 30d, month, 6mo, 12mo or custom (then date=YYYY-MM-DD,"
               "YYYY-MM-DD); date: the day the period ends in (default today); filters: "
               "v1 syntax, e.g. visit:source==Google;event:page==/blog/* (| for or, != for not)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mcp", help="serve read-only analytics tools to an MCP client on stdio "
                                   "(scoped by BEACON_MCP_API_KEY)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    if not settings.mcp_api_key:
        raise ValueError("BEACON_MCP_API_KEY is not set: create a key with `beacon keys "
                         "create --site DOMAIN` and set it in the MCP client's environment")
    with engine.connect() as conn:
        try:
            access.key_for(conn, settings.mcp_api_key)
        except V1Error as exc:
            raise ValueError(f"BEACON_MCP_API_KEY: {exc.message}") from None
    build_server(engine, settings.mcp_api_key).run("stdio")
    return 0


class Tools:
    """The tools' shared step: one connection, the key, the site, then the answer."""

    def __init__(self, engine: Engine, token: str, clock: Callable[[], datetime]) -> None:
        self.engine, self.token, self.clock = engine, token, clock

    def on_site(self, site_id: str, work: Callable[[Connection, Site, datetime], T]) -> T:
        from mcp.server.mcpserver.exceptions import ToolError

        now = self.clock()
        try:
            with self.engine.connect() as conn:
                key = access.key_for(conn, self.token)
                return work(conn, access.readable_site(conn, key, site_id), now)
        except V1Error as exc:
            # The client sees the Stats API's reason; any other failure stays a generic
            # "error executing tool" (its text, which may hold SQL, stays here).
            raise ToolError(exc.message) from None
        except QueryError as exc:
            raise ToolError(str(exc)) from None

    def params(self, site: Site, now: datetime, endpoint: str, **given: Any) -> Any:
        args = {k: str(v) for k, v in given.items() if v not in (None, "")}
        today = to_local(now, ZoneInfo(site.timezone)).date()
        return parse_params({**args, "site_id": site.domain}, today, endpoint=endpoint)

    def sites(self) -> list[dict[str, str]]:
        with self.engine.connect() as conn:
            key = access.key_for(conn, self.token)
            return [{"domain": s.domain, "timezone": s.timezone} for s in list_sites(conn)
                    if access.may_read(conn, key, s)]


def build_server(engine: Engine, token: str,
                 clock: Callable[[], datetime] = utc_now) -> MCPServer:
    # Imported here: every other `beacon` command starts without loading the SDK.
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False,
                                idempotent_hint=True,
                                open_world_hint=False)
    tools = Tools(engine, token, clock)
    server = MCPServer("beacon", instructions=(
        "Web analytics of the user's own sites (Beacon). Call list_sites first; every "
        "other tool takes a site_id (the domain). Metrics: visitors, visits, pageviews, "
        "views_per_visit, bounce_rate, visit_duration, events, conversion_rate (with a "
        "goal), time_on_page (with a page). " + PERIOD_HELP))

    @server.tool(name="list_sites", annotations=read_only)
    def list_sites_tool() -> dict[str, Any]:
        """The sites this key may read: domain and timezone."""
        return {"sites": tools.sites()}

    @server.tool(annotations=read_only)
    def aggregate(site_id: str, period: str = "30d", date: str | None = None,
                  metrics: str = "visitors,visits,pageviews,bounce_rate,visit_duration",
                  filters: str | None = None, compare: str | None = None) -> dict[str, Any]:
        """Totals of a period (the top row of the dashboard), as GET
        /api/v1/stats/aggregate; compare=previous_period adds the change."""
        return tools.on_site(site_id, lambda conn, site, now: answers.aggregate(
            conn, site, tools.params(site, now, "aggregate", period=period, date=date,
                                     metrics=metrics, filters=filters, compare=compare), now))

    @server.tool(annotations=read_only)
    def timeseries(site_id: str, period: str = "30d", date: str | None = None,
                   metrics: str = "visitors", filters: str | None = None,
                   interval: str | None = None) -> dict[str, Any]:
        """Metrics per hour (period=day), day or month (interval=day|month), as GET
        /api/v1/stats/timeseries."""
        return tools.on_site(site_id, lambda conn, site, now: answers.timeseries(
            conn, site, tools.params(site, now, "timeseries", period=period, date=date,
                                     metrics=metrics, filters=filters, interval=interval),
            now))

    @server.tool(annotations=read_only)
    def breakdown(site_id: str, property: str, period: str = "30d", date: str | None = None,
                  metrics: str = "visitors", filters: str | None = None, limit: int = 10,
                  page: int = 1) -> dict[str, Any]:
        """Top values of a property (visit:source, visit:country, event:page,
        event:goal, event:props:<key>, ...), as GET /api/v1/stats/breakdown."""
        return tools.on_site(site_id, lambda conn, site, now: answers.breakdown(
            conn, site, tools.params(site, now, "breakdown", property=property, period=period,
                                     date=date, metrics=metrics, filters=filters,
                                     limit=limit, page=page), now))

    @server.tool(annotations=read_only)
    def realtime_visitors(site_id: str) -> int:
        """Visitors in the last 5 minutes, as GET /api/v1/stats/realtime/visitors."""
        return tools.on_site(site_id, lambda conn, site, now: answers.realtime_visitors(
            conn, site, now))

    @server.tool(annotations=read_only)
    def goal_conversions(site_id: str, period: str = "30d", date: str | None = None,
                         filters: str | None = None) -> dict[str, Any]:
        """Each goal's unique conversions, total conversions and conversion rate, as GET
        /api/v1/stats/breakdown?property=event:goal&metrics=visitors,events,conversion_rate."""
        return tools.on_site(site_id, lambda conn, site, now: answers.breakdown(
            conn, site, tools.params(site, now, "breakdown", property="event:goal",
                                     metrics="visitors,events,conversion_rate", period=period,
                                     date=date, filters=filters), now))

    @server.tool(annotations=read_only)
    def list_funnels(site_id: str) -> dict[str, Any]:
        """The site's funnels and their steps."""
        return tools.on_site(site_id, lambda conn, site, now: funnel_answers.funnels(conn, site))

    @server.tool(annotations=read_only)
    def funnel(site_id: str, name: str, period: str = "30d", date: str | None = None,
               filters: str | None = None) -> dict[str, Any]:
        """Visitors reaching each step of a funnel (by name or id), the drop-off and the
        conversion rates."""
        return tools.on_site(site_id, lambda conn, site, now: funnel_answers.funnel(
            conn, site, tools.params(site, now, "aggregate", period=period, date=date,
                                     filters=filters), now, name))

    return server
