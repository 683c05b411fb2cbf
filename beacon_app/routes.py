"""Flask views of the beacon that are not hits: the authenticated batch API and the
JSON error pages. (The hit endpoints - pixel, bare 204, Events API - are answered in
front of Flask by hits.py.)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from beacon_app.batch_salts import DaySalts
from beacon_app.hits import (
    MAX_BATCH_BYTES,
    RETRYABLE,
    Reply,
    client_info,
    ingest,
    internal_error,
    payload_error,
    read_body,
)
from beacon_app.payload import PayloadError, decode_json_body, parse_event
from beacon_app.security import EVENT_PATHS
from beacon_app.state import BeaconState
from shared.core.records import RawHit
from shared.sites import Site, hash_token

bp = Blueprint("beacon", __name__)

MAX_BATCH = 500
MAX_IDEMPOTENCY_KEY = 200
RETRY_AFTER_SECONDS = 5


def _state() -> BeaconState:
    state: BeaconState = current_app.extensions["beacon"]
    return state


def never_5xx(view: Callable[..., Response]) -> Callable[..., Response]:
    """The beacon never answers 5xx (see `hits.internal_error`)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except HTTPException:
            raise
        except Exception:
            return _response(internal_error(_state(), request.path))

    return wrapper


def _response(reply: Reply) -> Response:
    resp = Response(reply.body, status=reply.status, content_type=reply.content_type)
    resp.headers.extend(reply.headers)
    return resp


def _batch_site(state: BeaconState) -> Site | None:
    """The site whose ingest token is in `Authorization: Bearer ...` (from memory)."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or len(auth) > 300:
        return None
    return state.sites.by_token_hash(hash_token(auth[7:].strip()))


def _retry_later(body: dict[str, Any]) -> Response:
    """503 + Retry-After: nothing in it was refused for what it is, resend it (the
    same uids or Idempotency-Key make a resend store every event once)."""
    resp = Response(_json(body), status=503, mimetype="application/json")
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


def _idempotency_key() -> str | None:
    """The request's Idempotency-Key header; raises PayloadError when it is malformed."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise PayloadError([{"field": "Idempotency-Key", "message": "must be 1 to "
                             f"{MAX_IDEMPOTENCY_KEY} printable ASCII characters"}])
    return key


@bp.post("/api/events")
@never_5xx
def api_events() -> Response:
    """Authenticated batch: <= 500 events that may set ip, user_agent, timestamp and uid.
    Per-event errors are reported by index; the good events are kept. Events the beacon
    could not keep (spool full or unwritable) make the answer 503 with Retry-After."""
    state = _state()
    if not state.sites.loaded:    # started during a database outage with no saved copy
        return _retry_later({"errors": [{"field": "request", "message":
                                         "site list not loaded yet (database unavailable)"}]})
    site = _batch_site(state)
    if site is None:
        return Response('{"errors":[{"field":"authorization","message":"missing or invalid '
                        'Bearer token (see `beacon sites token`)"}]}', status=401,
                        mimetype="application/json")
    try:
        key = _idempotency_key()
        data = decode_json_body(read_body(request.environ, MAX_BATCH_BYTES), MAX_BATCH_BYTES)
    except PayloadError as exc:
        return _response(payload_error(state, exc))
    items = data.get("events") if isinstance(data, dict) else data
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        reason = f"must be a list of 1 to {MAX_BATCH} events"
        return _response(payload_error(state, PayloadError([{"field": "events",
                                                             "message": reason}])))
    now = state.clock()
    hits, errors = _parse_batch(state, site, items, now, key)
    drops: list[dict[str, Any]] = []
    retry: list[dict[str, Any]] = []
    accepted = 0
    # Each event is hashed with a key of its own day (batch_salts.py says why).
    salts = DaySalts.load(state, now, {(hit.timestamp or now).date() for _, hit in hits})
    for index, hit in hits:
        reasons = ingest(state, hit, salts.of((hit.timestamp or now).date()))
        if RETRYABLE.intersection(reasons):
            retry.append({"index": index, "reasons": reasons})
        elif reasons:
            drops.append({"index": index, "reasons": reasons})
        else:
            accepted += 1
    body = {"accepted": accepted, "dropped": drops, "errors": errors}
    if retry:
        return _retry_later({**body, "retry": retry})
    status = 202 if accepted or drops or not errors else 400
    return Response(_json(body), status=status, mimetype="application/json")


def _parse_batch(state: BeaconState, site: Site, items: list[Any], now: datetime,
                 key: str | None) -> tuple[list[tuple[int, RawHit]], list[dict[str, Any]]]:
    """(index, hit) of every good event, and the errors of the others by index. With an
    Idempotency-Key, an event without its own uid gets one from the key and its index."""
    client = client_info(state, request.environ)
    hits: list[tuple[int, RawHit]] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            hit = parse_event(item, client, now, trusted=True)
            if any(state.sites.by_domain(d) != site for d in hit.domains):
                raise PayloadError([{"field": "domain",
                                     "message": "this token may only send events for its site"}])
        except PayloadError as exc:
            errors.append({"index": index, "errors": exc.errors})
            continue
        if key is not None and not hit.client_uid:
            hit = dataclasses.replace(hit, client_uid=f"{key}\x1f{index}")
        hits.append((index, hit))
    return hits, errors


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
