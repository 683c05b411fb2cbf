"""Read API, funnels: a site's funnels and one funnel's steps over a v1 period and filters.

Not part of Plausible's v1 (its funnels are dashboard-only); the MCP server offers them
with the same period and filter parameters as the v1 endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from shared.reports.funnels import funnel_report, list_funnels
from shared.sites import Site

from .answers import build
from .errors import V1Error
from .params import V1Params


def funnels(conn: Connection, site: Site) -> dict[str, Any]:
    return {"funnels": [{"id": f.id, "name": f.name,
                         "steps": [{"kind": s.kind, "value": s.value} for s in f.steps]}
                        for f in list_funnels(conn, site.id)]}


def funnel(conn: Connection, site: Site, p: V1Params, now: datetime,
           name: str) -> dict[str, Any]:
    """The steps of the funnel called `name` (or with that id)."""
    found = [f for f in list_funnels(conn, site.id) if name in (f.name, str(f.id))]
    if not found:
        raise V1Error(f"The funnel `{name[:100]}` is not configured for this site.", 404)
    report = funnel_report(conn, build(conn, site, p, now).full, found[0])
    return {"funnel": report.funnel.name, "results": [
        {"step": i + 1, "kind": s.step.kind, "value": s.step.value, "visitors": s.visitors,
         "visits": s.visits, "dropoff": s.dropoff,
         "conversion_rate": round(s.conversion_rate, 2), "step_rate": round(s.step_rate, 2)}
        for i, s in enumerate(report.steps)]}
