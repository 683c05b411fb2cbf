"""Operations endpoints: /healthz (database and spool) and /metrics (Prometheus text)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request

from beacon_app.metrics import render_prometheus
from beacon_app.state import BeaconState
from shared.accounts.metrics_access import REFUSED, metrics_allowed

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# /healthz is public (load balancers probe it without credentials): it says only this;
# the driver's message, which names hosts and ports, goes to the log.
DATABASE_UNAVAILABLE = "unavailable"


def _state() -> BeaconState:
    state: BeaconState = current_app.extensions["beacon"]
    return state


def lookups(state: BeaconState) -> dict[str, dict[str, Any]]:
    """The in-memory copies the request path serves from: fresh, or how stale."""
    return {"sites": state.sites.status(), "salts": state.salts.status()}


@bp.get("/healthz")
def healthz() -> Response:
    """Always 200 while the process serves: a database outage is "degraded", not down,
    because events are still accepted into the spool and written when it returns."""
    state = _state()
    try:
        with state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError as exc:
        log.warning("healthz: database unavailable: %s", str(exc).splitlines()[0][:300])
        database = DATABASE_UNAVAILABLE
    copies = lookups(state)
    healthy = database == "ok" and state.writer.healthy and all(c["ok"] for c in copies.values())
    body = {"status": "ok" if healthy else "degraded",
            "database": database, "spool_bytes": state.writer.spool.total_bytes,
            "backlog": state.writer.backlog, "writer_healthy": state.writer.healthy,
            "lookups": copies}
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/metrics")
def metrics() -> Response:
    state = _state()
    if not metrics_allowed(state.settings.metrics_token, request.remote_addr or "",
                           request.headers.get):
        return Response(REFUSED + "\n", status=403, mimetype="text/plain")
    text = render_prometheus(state.metrics.combined(), state.writer.spool.total_bytes,
                             state.writer.backlog, lookups(state))
    return Response(text, mimetype="text/plain; version=0.0.4")
