"""Sites API, HTTP step: `/api/v1/sites` (list, create, get, delete), `/api/v1/sites/goals`
(list, find-or-create, delete) and `/api/v1/sites/shared-links`, in Plausible's shapes.

Thin view: the bearer key (401 in v1's words), the parameters from the query string,
a form or a JSON body, then `shared.api_v1.sites` in one write transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.engine import Connection

from beacon_app.stats_api.v1 import error
from shared.accounts.api_keys import ApiKey
from shared.api_v1 import access
from shared.api_v1 import sites as api
from shared.api_v1.errors import V1Error

bp = Blueprint("sites_api_v1", __name__)
log = logging.getLogger(__name__)
Work = Callable[[Connection, ApiKey, dict[str, str], datetime], Any]


def _params() -> dict[str, str]:
    """Query string, form fields and a JSON object's string values, later ones winning."""
    body = request.get_json(silent=True) if request.is_json else None
    json_fields = {k: str(v) for k, v in body.items()
                   if isinstance(v, str | int)} if isinstance(body, dict) else {}
    return {**request.args.to_dict(), **request.form.to_dict(), **json_fields}


def _respond(work: Work) -> Response:
    state = current_app.extensions["beacon"]
    try:
        with state.engine.begin() as conn:
            key = access.key_for(conn, access.bearer_token(request.headers.get("Authorization")))
            return jsonify(work(conn, key, _params(), state.clock()))
    except V1Error as exc:
        return error(exc.status, exc.message)
    except sa.exc.DBAPIError as exc:
        log.error("sites API request failed in the database: %s", type(exc.orig).__name__)
        return error(503, "The database could not answer this request; try again shortly.")


@bp.get("/api/v1/sites")
def list_sites() -> Response:
    return _respond(lambda conn, key, p, now: api.list_readable(conn, key, p))


@bp.post("/api/v1/sites")
def create_site() -> Response:
    return _respond(lambda conn, key, p, now: api.create(conn, key, p, now))


@bp.get("/api/v1/sites/goals")
def list_goals() -> Response:
    return _respond(lambda conn, key, p, now: api.goals(conn, key, p))


@bp.put("/api/v1/sites/goals")
def put_goal() -> Response:
    return _respond(lambda conn, key, p, now: api.put_goal(conn, key, p, now))


@bp.delete("/api/v1/sites/goals/<goal_id>")
def delete_goal(goal_id: str) -> Response:
    return _respond(lambda conn, key, p, now: api.delete_goal(conn, key, goal_id, p))


@bp.put("/api/v1/sites/shared-links")
def put_shared_link() -> Response:
    return _respond(lambda conn, key, p, now: api.put_shared_link(conn, key, p, now,
                                                                  request.host_url))


@bp.get("/api/v1/sites/<path:site_id>")
def get_site(site_id: str) -> Response:
    return _respond(lambda conn, key, p, now: api.get(conn, key, site_id))


@bp.delete("/api/v1/sites/<path:site_id>")
def delete_site(site_id: str) -> Response:
    return _respond(lambda conn, key, p, now: api.delete(conn, key, site_id))
