"""Stats API, HTTP step: `POST /api/v2/query` and `GET /api/v2/openapi.json`.

Thin view: authenticate the bearer key (401 when missing, unknown or revoked; 403 when
it belongs to another site), parse the body (400 listing every problem), build the
`StatsQuery` with the app's clock and run it through `shared.reports` (read-only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.engine import Connection

from beacon_app.state import BeaconState
from beacon_app.stats_api import derived
from beacon_app.stats_api import run as stats_exec
from beacon_app.stats_api.derived import Context
from beacon_app.stats_api.filters import GOAL, parse_filters
from beacon_app.stats_api.openapi import openapi_document
from beacon_app.stats_api.request import ApiError, ApiQuery, parse, take_segments
from shared.accounts.api_keys import ApiKey, verify_key
from shared.api_v1.access import may_read
from shared.reports.goals import Goal, list_goals
from shared.reports.segments import segment_filters
from shared.reports.traffic import resolve_all
from shared.sites import Site, SiteError, get_site
from shared.stats.query import QueryError, StatsQuery
from shared.storage.read_timeout import QueryTimeout, time_limit

bp = Blueprint("stats_api", __name__)
log = logging.getLogger(__name__)


def _error(status: int, message: str, reasons: list[str] | None = None) -> Response:
    """Plausible's error shape, {"error": "<what is wrong>"}; `reasons` lists each
    problem of the body apart as well."""
    body: dict[str, Any] = {"error": "; ".join(reasons) if reasons else message}
    if reasons:
        body["reasons"] = reasons
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="stats"'
    return response


def _state() -> Any:
    return current_app.extensions["beacon"]


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _api_key(conn: Any) -> Any:
    """The request's API key record, or the 401 answer when it is missing or unknown."""
    token = _bearer()
    if not token:
        return _error(401, "missing API key: send the header Authorization: Bearer <key>")
    key = verify_key(conn, token)
    return key if key is not None else _error(401, "unknown or revoked API key")


def _site(conn: Any, api: ApiQuery, key: ApiKey) -> Site | Response:
    try:
        site = get_site(conn, api.site_id)
    except SiteError as exc:
        return _error(400, "invalid query", [f"site_id: {exc}"])
    if site is None or not may_read(conn, key, site):   # a site's key, or its user's
        # The same answer for "no such site" and "not yours": ids are not probed.
        return _error(403, f"this API key cannot read site {api.site_id!r}")
    return site


def _authorised(conn: Any,
                parse_body: Callable[[Any], ApiQuery]) -> tuple[ApiQuery, Site] | Response:
    """The request's parsed body and its site, or the 4xx answer: no or an unknown key
    (401), a bad body (400 listing every problem), a site not of this key (403)."""
    key = _api_key(conn)
    if isinstance(key, Response):
        return key
    try:
        body = request.get_json(silent=True)
    except RecursionError:        # the JSON parser's own limit; nothing to log
        return _error(400, "invalid query", ["the body is nested too deeply"])
    try:
        api = parse_body(body)
    except ApiError as exc:
        return _error(exc.status, "invalid query", exc.reasons)
    site = _site(conn, api, key)
    return site if isinstance(site, Response) else (api, site)


def _stats_query(api: ApiQuery, site: Site, now: datetime,
                 filters: tuple[Any, ...]) -> StatsQuery:
    sub_day = api.window is not None or api.window_minutes is not None
    return StatsQuery(site_id=site.id, timezone=site.timezone,
                      period="today" if sub_day else api.period, now=now,
                      start=api.start, end=api.end,
                      interval=None if sub_day else api.interval, filters=filters)


def _context(conn: Connection, api: ApiQuery, site: Site) -> tuple[tuple[Any, ...], Context]:
    """The query's filters with event:goal translated to the site's goals, and the
    context the goal metrics need; raises ApiError for an unknown goal."""
    goals = list_goals(conn, site.id)
    by_name = {g.display_name: g for g in goals}
    # Segment filters were taken out (they are the site's saved filters, added below).
    raw_filters = take_segments(api.raw.get("filters", []), [])[1]
    errors: list[str] = []
    filters = parse_filters(raw_filters, errors, by_name)
    if errors:
        raise ApiError(errors)
    goal_items = [i for i, item in enumerate(raw_filters)
                  if isinstance(item, list) and len(item) >= 3 and item[1] == GOAL]
    picked: list[Goal] = []
    for i in goal_items:
        op, names = raw_filters[i][0], [str(v) for v in raw_filters[i][2]]
        picked += [g for g in goals if (g.display_name in names if op == "is" else
                                        any(n.lower() in g.display_name.lower() for n in names))]
    base = tuple(f for i, f in enumerate(filters) if i not in goal_items)
    # An API key belongs to a site, not a user: only the site's shared segments apply.
    shared = segment_filters(conn, site.id, api.segments) if api.segments else ()
    return filters + shared, Context(goals, list(dict.fromkeys(picked)), base + shared,
                                     bool(goal_items))


def _echo(api: ApiQuery, query: StatsQuery) -> dict[str, Any]:
    if api.window is not None:
        stamp = [t.astimezone(query.tz).isoformat() for t in api.window]
    elif api.window_minutes is not None:
        start = query.now - timedelta(minutes=api.window_minutes)
        stamp = [t.replace(tzinfo=UTC).astimezone(query.tz).isoformat()
                 for t in (start, query.now)]
    else:
        stamp = derived.stamps(query)
    include = {k: v for k, v in api.include.items() if k != "comparisons"}
    if api.comparison:
        include["comparisons"] = api.raw.get("include", {}).get("comparisons")
    return {"site_id": api.site_id, "metrics": list(api.metrics), "date_range": stamp,
            "dimensions": list(api.dimensions), "filters": api.raw.get("filters", []),
            "order_by": [list(o) for o in api.order_by], "include": include,
            "pagination": {"limit": api.limit, "offset": api.offset}}


def answer_for_site(parse_body: Callable[[Any], ApiQuery],
                    answer: Callable[[BeaconState, Connection, ApiQuery, Site], Response]
                    ) -> Response:
    """The steps every Stats API endpoint shares: the key, the body and the site (or the
    4xx answer), then `answer` on one connection."""
    state = _state()
    with state.engine.connect() as conn:
        authorised = _authorised(conn, parse_body)
        if isinstance(authorised, Response):
            return authorised
        return answer(state, conn, *authorised)


@bp.post("/api/v2/query")
def query() -> Response:
    return answer_for_site(parse, _query_answer)


def _query_answer(state: BeaconState, conn: Connection, api: ApiQuery, site: Site) -> Response:
    try:
        filters, ctx = _context(conn, api, site)
        stats = _stats_query(api, site, state.clock(), filters)
        with time_limit(conn, state.settings.query_timeout_seconds):
            stats = resolve_all(conn, stats)      # "all": from the first event on
            answer = stats_exec.run(conn, api, stats, ctx)
    except ApiError as exc:
        return _error(exc.status, "invalid query", exc.reasons)
    except QueryError as exc:
        return _error(400, "invalid query", [str(exc)])
    except QueryTimeout as exc:
        return _error(503, "query stopped", [str(exc)])
    except sa.exc.DBAPIError as exc:
        # The exception's text holds the SQL and its parameters (request data): log
        # the driver's error class only.
        log.error("stats query failed in the database: %s", type(exc.orig).__name__)
        return _error(503, "the database could not answer this query")
    return jsonify({"results": answer.results, "meta": _meta(api, answer.meta),
                    "query": _echo(api, stats)})


def _meta(api: ApiQuery, meta: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"source": meta.get("source", "raw")}
    if api.include.get("imports"):
        out["imports_included"] = False        # no imported data: native stats only
    if api.include.get("time_labels") and "time_labels" in meta:
        out["time_labels"] = meta["time_labels"]
    if api.include.get("total_rows"):
        out["total_rows"] = meta.get("total_rows")
    for key in ("metric_warnings", "comparison_date_range"):
        if key in meta:
            out[key] = meta[key]
    return out


@bp.get("/api/v2/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
