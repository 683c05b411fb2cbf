"""Thin views: pixel, bare 204 beacon, Events API, batch API, health, metrics.

Each view parses at the edge (payload.py), runs the pipeline and hands events to the
writer. Answers: 202 for accepted events and for policy drops (the reason is in the
`X-Beacon-Drop` header), 4xx with reasons for malformed input - never a 5xx.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from beacon_app.enrichment.client_ip import client_ip
from beacon_app.payload import (
    MAX_HEADER,
    MAX_UA,
    ClientInfo,
    PayloadError,
    clean_text,
    decode_json_body,
    parse_event,
    parse_query_hit,
)
from beacon_app.pipeline import enrich
from beacon_app.security import EVENT_PATHS
from beacon_app.state import BeaconState
from shared import schema
from shared.records import Drop, DropReason, RawHit
from shared.sites import hash_token

log = logging.getLogger(__name__)
bp = Blueprint("beacon", __name__)

# A transparent 1x1 GIF (43 bytes): every mail client and browser renders it, and it is
# smaller than the smallest PNG.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0"
MAX_BATCH = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024


# Headers that announce a prefetch or link preview (as WSGI environ keys).
_PURPOSE_KEYS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


def _state() -> BeaconState:
    state: BeaconState = current_app.extensions["beacon"]
    return state


def _client(state: BeaconState) -> ClientInfo:
    # Straight from the WSGI environ: werkzeug's header view re-derives the key per get.
    env = request.environ
    purpose = " ".join(env.get(key, "") for key in _PURPOSE_KEYS).lower()
    return ClientInfo(
        ip=client_ip(request.remote_addr or "", env.get("HTTP_X_FORWARDED_FOR"),
                     state.settings.trusted_proxies),
        user_agent=clean_text(env.get("HTTP_USER_AGENT", ""), MAX_UA),
        accept_language=clean_text(env.get("HTTP_ACCEPT_LANGUAGE", ""), MAX_HEADER),
        dnt=env.get("HTTP_DNT", "").strip() == "1",
        gpc=env.get("HTTP_SEC_GPC", "").strip() == "1",
        prefetch="prefetch" in purpose or "preview" in purpose,
    )


def never_5xx(view: Callable[..., Response]) -> Callable[..., Response]:
    """The beacon never answers 5xx: an unexpected failure is logged (without request
    data) and answered 202 with the reason `internal_error`."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except HTTPException:
            raise
        except Exception:
            log.exception("unexpected error in %s", request.path)
            _state().metrics.inc("internal_errors")
            resp = Response("", status=202)
            resp.headers["X-Beacon-Drop"] = "internal_error"
            return resp

    return wrapper


def _ingest(state: BeaconState, hit: RawHit) -> list[str]:
    """Run the pipeline and submit; returns the drop reasons (empty = all stored)."""
    now = hit.received_at
    if not state.limiter.allow(hit.ip):
        state.metrics.drop(0, DropReason.RATE_LIMITED, now.date())
        return [DropReason.RATE_LIMITED.value]
    reasons = []
    for result in enrich(hit, state.sites, state.settings, state.enrichers,
                         state.salts.get(now)):
        if isinstance(result, Drop):
            state.metrics.drop(result.site_id, result.reason, now.date())
            reasons.append(result.reason.value)
        elif not state.writer.submit(result):
            reasons.append(DropReason.SPOOL_FULL.value)
    return reasons


def _accepted(reasons: list[str], body: bytes | str = "ok", mimetype: str = "text/plain",
              status: int = 202) -> Response:
    resp = Response(body, status=status, mimetype=mimetype)
    if reasons:
        resp.headers["X-Beacon-Drop"] = ",".join(dict.fromkeys(reasons))
    return resp


def _bad_request(exc: PayloadError) -> Response:
    _state().metrics.inc("payload_errors")
    resp = jsonify({"errors": exc.errors})
    resp.status_code = 400
    resp.headers["X-Beacon-Error"] = str(exc)[:200].encode("ascii", "replace").decode()
    return resp


@bp.post("/api/event")
@never_5xx
def api_event() -> Response:
    state = _state()
    try:
        data = decode_json_body(request.get_data(cache=False), state.settings.max_body_bytes)
        hit = parse_event(data, _client(state), state.clock())
    except PayloadError as exc:
        return _bad_request(exc)
    return _accepted(_ingest(state, hit))


@bp.get("/p.gif")
@never_5xx
def pixel() -> Response:
    state = _state()
    try:
        hit = parse_query_hit(request.args, request.headers.get("Referer", ""), _client(state),
                              state.clock())
    except PayloadError as exc:
        return _bad_request(exc)
    resp = _accepted(_ingest(state, hit), PIXEL, "image/gif", status=200)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@bp.get("/")
@never_5xx
def bare_beacon() -> Response:
    """The minimal beacon: the page is the Referer header, the answer 204."""
    referer = request.headers.get("Referer", "")
    if not referer and not request.args.get("u"):
        resp = Response("", status=400)
        resp.headers["X-Beacon-Error"] = "no Referer header: nothing to count"
        return resp
    state = _state()
    try:
        hit = parse_query_hit(request.args, referer, _client(state), state.clock())
    except PayloadError as exc:
        return _bad_request(exc)
    resp = _accepted(_ingest(state, hit), b"", status=204)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


def _batch_site_id(state: BeaconState) -> int | None:
    """The site whose ingest token is in `Authorization: Bearer ...`, or None."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or len(auth) > 300:
        return None
    digest = hash_token(auth[7:].strip())
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.sites.c.id, schema.sites.c.api_token_hash)
                            .where(schema.sites.c.api_token_hash.is_not(None))).all()
    for site_id, stored in rows:
        if hmac.compare_digest(stored, digest):
            return int(site_id)
    return None


@bp.post("/api/events")
@never_5xx
def api_events() -> Response:
    """Authenticated batch: <= 500 events that may set ip, user_agent and timestamp.
    Per-event errors are reported by index; the good events are kept."""
    state = _state()
    site_id = _batch_site_id(state)
    if site_id is None:
        return Response('{"errors":[{"field":"authorization","message":"missing or invalid '
                        'Bearer token (see `beacon sites token`)"}]}', status=401,
                        mimetype="application/json")
    try:
        data = decode_json_body(request.get_data(cache=False), MAX_BATCH_BYTES)
    except PayloadError as exc:
        return _bad_request(exc)
    items = data.get("events") if isinstance(data, dict) else data
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        reason = f"must be a list of 1 to {MAX_BATCH} events"
        return _bad_request(PayloadError([{"field": "events", "message": reason}]))
    site = state.sites.by_id(site_id)
    errors, drops, accepted = [], [], 0
    client, now = _client(state), state.clock()
    for index, item in enumerate(items):
        try:
            hit = parse_event(item, client, now, trusted=True)
            if site is None or any(state.sites.by_domain(d) != site for d in hit.domains):
                raise PayloadError([{"field": "domain",
                                     "message": "this token may only send events for its site"}])
        except PayloadError as exc:
            errors.append({"index": index, "errors": exc.errors})
            continue
        reasons = _ingest(state, hit)
        if reasons:
            drops.append({"index": index, "reasons": reasons})
        else:
            accepted += 1
    status = 202 if accepted or drops or not errors else 400
    return Response(_json({"accepted": accepted, "dropped": drops, "errors": errors}),
                    status=status, mimetype="application/json")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Every HTTP error as a short JSON reason, never an HTML page or a traceback."""
    code = exc.code or 400
    if code >= 500:
        code = 400 if request.path in EVENT_PATHS else code
    resp = jsonify({"errors": [{"field": "request", "message": exc.description or exc.name}]})
    resp.status_code = code
    return resp
