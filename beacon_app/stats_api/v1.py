"""Stats API v1, HTTP step: `GET /api/v1/stats/aggregate|timeseries|breakdown` and
`/api/v1/stats/realtime/visitors`, as Plausible's v1 reference defines them.

Thin view: the bearer key and the site (401 in v1's words), the parameters (400 with
`{"error": reason}`), then `shared.api_v1` answers through the query layer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.engine import Connection

from shared.api_v1 import access, answers
from shared.api_v1.errors import V1Error
from shared.api_v1.params import V1Params, parse_params, site_id_of
from shared.core.clock import to_local
from shared.sites import Site
from shared.stats.errors import QueryError
from shared.storage.read_timeout import QueryTimeout, time_limit

bp = Blueprint("stats_api_v1", __name__)
log = logging.getLogger(__name__)
Answer = Callable[[Connection, Site, V1Params, datetime], dict[str, Any]]


def error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="stats"'
    return response


def _respond(work: Callable[[Connection, Site, datetime], Any]) -> Response:
    """Key, site and the answer on one connection; every refusal in v1's shape."""
    state = current_app.extensions["beacon"]
    now = state.clock()
    try:
        with state.engine.connect() as conn:
            key = access.key_for(conn, access.bearer_token(request.headers.get("Authorization")))
            site = access.readable_site(conn, key, site_id_of(request.args))
            with time_limit(conn, state.settings.query_timeout_seconds):
                return jsonify(work(conn, site, now))
    except V1Error as exc:
        return error(exc.status, exc.message)
    except QueryError as exc:                 # a bound of the query layer (limits.py)
        return error(400, str(exc))
    except QueryTimeout as exc:
        return error(503, f"The query was stopped: {exc}")
    except sa.exc.DBAPIError as exc:
        # The exception's text holds the SQL and its parameters: log the class only.
        log.error("v1 stats query failed in the database: %s", type(exc.orig).__name__)
        return error(503, "The database could not answer this query; try again shortly.")


def _endpoint(name: str, answer: Answer) -> Callable[[], Response]:
    def view() -> Response:
        def work(conn: Connection, site: Site, now: datetime) -> Any:
            today = to_local(now, ZoneInfo(site.timezone)).date()
            return answer(conn, site, parse_params(request.args, today, endpoint=name), now)
        return _respond(work)
    view.__name__ = name
    return view


bp.add_url_rule("/api/v1/stats/aggregate", view_func=_endpoint("aggregate", answers.aggregate))
bp.add_url_rule("/api/v1/stats/timeseries",
                view_func=_endpoint("timeseries", answers.timeseries))
bp.add_url_rule("/api/v1/stats/breakdown", view_func=_endpoint("breakdown", answers.breakdown))


@bp.get("/api/v1/stats/realtime/visitors")
def realtime_visitors() -> Response:
    return _respond(lambda conn, site, now: answers.realtime_visitors(conn, site, now))
