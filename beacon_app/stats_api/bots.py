"""Stats API, HTTP step: `POST /api/v2/bots` - who came besides people.

The dropped bot hits of one site, summed per UTC day, category and agent family
(`bot_counts`). Authenticated like `/api/v2/query` (a bearer key of the site);
the body takes `site_id`, `date_range` (as in `/api/v2/query`), `dimensions` (any of
"day", "category", "family"; default ["category", "family"]), `categories` (only these)
and `pagination.limit`. Answers `{"results": [{"dimensions": [...], "metrics": [hits]}],
"total": hits, "query": {...}}`; 400 listing every problem of a bad body.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Connection

from beacon_app.state import BeaconState
from beacon_app.stats_api.http import _error, answer_for_site
from beacon_app.stats_api.request import ApiError, ApiQuery, _date_range
from shared.core.bot_categories import BotCategory
from shared.reports.bots import BOT_DIMENSIONS, MAX_ROWS, bot_report, bot_total
from shared.sites import Site
from shared.stats.query import QueryError, StatsQuery

bp = Blueprint("stats_bots", __name__)
_FIELDS = {"site_id", "date_range", "dimensions", "categories", "pagination"}


def _parse(body: Any) -> ApiQuery:
    """The body as an ApiQuery: `dimensions`, `limit`, and the categories in `raw`."""
    if not isinstance(body, dict):
        raise ApiError(["the body must be a JSON object"])
    errors: list[str] = []
    if set(body) - _FIELDS:
        errors.append(f"unknown fields: {', '.join(sorted(set(body) - _FIELDS))}")
    site_id = body.get("site_id")
    if not isinstance(site_id, str) or not site_id:
        errors.append("site_id is required (the site's domain)")
    period, start, end = _date_range(body.get("date_range", "30d"), errors)
    dims = body.get("dimensions", ["category", "family"])
    if (not isinstance(dims, list) or not all(isinstance(d, str) for d in dims)
            or set(dims) - set(BOT_DIMENSIONS) or len(set(dims)) != len(dims)):
        errors.append(f"dimensions must be a list of distinct names from "
                      f"{', '.join(BOT_DIMENSIONS)}")
        dims = []
    values = {c.value for c in BotCategory}
    cats = body.get("categories", [])
    if not isinstance(cats, list) or not all(isinstance(c, str) and c in values for c in cats):
        errors.append(f"categories must be a list of: {', '.join(sorted(values))}")
        cats = []
    limit = (body.get("pagination") or {}).get("limit", MAX_ROWS) \
        if isinstance(body.get("pagination", {}), dict) else None
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_ROWS:
        errors.append(f"pagination.limit must be an integer from 1 to {MAX_ROWS}")
        limit = MAX_ROWS
    if errors:
        raise ApiError(errors)
    return ApiQuery(str(site_id), (), period, start, end, None, None, None, tuple(dims), (),
                    (), limit=limit, raw={**body, "categories": cats})


@bp.post("/api/v2/bots")
def bots() -> Response:
    return answer_for_site(_parse, _bots_answer)


def _bots_answer(state: BeaconState, conn: Connection, api: ApiQuery, site: Site) -> Response:
    dims, limit = api.dimensions, api.limit
    cats = tuple(BotCategory(c) for c in api.raw["categories"])
    try:   # the counts are per UTC day, so the period is resolved in UTC
        days = StatsQuery(site_id=site.id, timezone="UTC", period=api.period,
                          now=state.clock(), start=api.start, end=api.end).date_range
    except QueryError as exc:
        return _error(400, "invalid query", [str(exc)])
    rows = bot_report(conn, site.id, days.first, days.last, dims, cats, limit)
    total = bot_total(conn, site.id, days.first, days.last)
    return jsonify({
        "results": [{"dimensions": list(r.dimensions), "metrics": [r.count]} for r in rows],
        "total": total,
        "query": {"site_id": api.site_id, "metrics": ["hits"], "dimensions": list(dims),
                  "date_range": [days.first.isoformat(), days.last.isoformat()],
                  "categories": [c.value for c in cats]},
    })
