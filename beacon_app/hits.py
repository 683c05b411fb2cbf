"""The hit endpoints - pixel, bare 204 beacon, Events API - answered in plain WSGI,
in front of Flask.

These three paths take every page view of every tracked site, so their cost per
request is the beacon's capacity. Flask's per-request machinery (request and app
contexts, URL matching, before/after hooks, signals, the Response object) cost about
twice as much as the whole enrichment pipeline behind them (in process: ~180 µs vs
~70 µs per hit), so `HitEndpoints` answers these paths itself - reading bodies through
werkzeug's safe input stream and query strings through werkzeug's Request, as Flask
would - and hands every other request to Flask unchanged. The security and CORS
headers middleware (security.py) wraps both, so the headers are the same.

Answers: 202 for accepted events and for policy drops (the reason is in the
`X-Beacon-Drop` header), 4xx with reasons for malformed input - never a 5xx.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_host, get_input_stream

from beacon_app import root_page
from beacon_app.enrichment.browser_headers import sends_browser_headers
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
from beacon_app.security import REFUSED_HOST_BODY, REFUSED_HOST_HEADER, host_refused
from beacon_app.state import BeaconState
from shared.core.records import Drop, DropReason, RawHit
from shared.core.settings import Settings

log = logging.getLogger(__name__)

# A transparent 1x1 GIF (43 bytes): every mail client and browser renders it, and it is
# smaller than the smallest PNG.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

# The largest request body read at all (the batch API's limit); the Events API then
# refuses anything over its own, smaller limit (BEACON_MAX_BODY_BYTES) with a 400.
MAX_BATCH_BYTES = 5 * 1024 * 1024

# Headers that announce a prefetch or link preview (as WSGI environ keys).
_PURPOSE_KEYS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = TEXT
    headers: tuple[tuple[str, str], ...] = ()


def client_info(state: BeaconState, environ: Environ,
                check_browser_headers: bool = False) -> ClientInfo:
    """What the socket and the headers say about the client, straight from the environ.

    `check_browser_headers`: the pixel and 204 endpoints, which only browsers should call,
    also note whether the headers every browser sends are there."""
    purpose = " ".join(environ.get(key, "") for key in _PURPOSE_KEYS).lower()
    return ClientInfo(
        ip=client_ip(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"),
                     state.settings.trusted_proxies),
        user_agent=clean_text(environ.get("HTTP_USER_AGENT", ""), MAX_UA),
        accept_language=clean_text(environ.get("HTTP_ACCEPT_LANGUAGE", ""), MAX_HEADER),
        dnt=environ.get("HTTP_DNT", "").strip() == "1",
        gpc=environ.get("HTTP_SEC_GPC", "").strip() == "1",
        prefetch="prefetch" in purpose or "preview" in purpose,
        browser_headers=not check_browser_headers or sends_browser_headers(environ),
    )


def ingest(state: BeaconState, hit: RawHit,
           salts: tuple[bytes, bytes | None] | None = None) -> list[str]:
    """Run the pipeline and submit; returns the drop reasons (empty = all stored).
    `salts` default to the current day's (the batch API passes those of the event's day)."""
    now = hit.received_at
    if not state.limiter.allow(hit.ip):
        state.metrics.drop(0, DropReason.RATE_LIMITED, now.date())
        return [DropReason.RATE_LIMITED.value]
    reasons = []
    for result in enrich(hit, state.sites, state.settings, state.enrichers,
                         salts or state.salts.get(now)):
        if isinstance(result, Drop):
            state.metrics.drop(result.site_id, result.reason, now.date(), result.bot)
            reasons.append(result.reason.value)
        elif (refused := state.writer.submit(result)) is not None:
            reasons.append(refused.value)
        elif state.salts.is_provisional(now.date()):
            state.metrics.inc("events_provisional_salt")   # kept; see beacon_app/salt_cache.py
    return reasons


# Drop reasons that say "not taken now, the same event may be sent again" (the batch
# API answers them with 503 and Retry-After): the beacon could not keep it, not a policy.
RETRYABLE = frozenset({DropReason.SPOOL_FULL.value, DropReason.SPOOL_UNAVAILABLE.value})


def drop_header(reasons: list[str]) -> tuple[tuple[str, str], ...]:
    return (("X-Beacon-Drop", ",".join(dict.fromkeys(reasons))),) if reasons else ()


def error_json(field: str, message: str) -> bytes:
    return json.dumps({"errors": [{"field": field, "message": message}]}).encode()


def request_limit(settings: Settings) -> int:
    """The request body size beyond which a request is refused (413) before it is read."""
    return max(settings.max_body_bytes, MAX_BATCH_BYTES)


def internal_error(state: BeaconState, path: str) -> Reply:
    """Never a 5xx from the browser endpoints: an unexpected failure (the last resort:
    nothing on their path needs the database) is logged (without request data), counted
    as the drop reason `internal_error` and answered 202 with that reason."""
    log.exception("unexpected error in %s", path)
    state.metrics.drop(0, DropReason.INTERNAL_ERROR, state.clock().date())
    return Reply(202, b"", TEXT, (("X-Beacon-Drop", DropReason.INTERNAL_ERROR.value),))


def payload_error(state: BeaconState, exc: PayloadError) -> Reply:
    """400 with every problem of the payload as JSON, and the first in a header."""
    state.metrics.inc("payload_errors")
    reason = str(exc)[:200].encode("ascii", "replace").decode()
    return Reply(400, json.dumps({"errors": exc.errors}).encode(), JSON,
                 (("X-Beacon-Error", reason),))


def read_body(environ: Environ, max_content_length: int) -> bytes:
    """The request body, never read past Content-Length; 413 beyond the limit.

    A plain Content-Length (what browsers send) is read directly; anything else -
    chunked, a malformed length - goes through werkzeug's safe input stream. That stream
    stops quietly at its limit (a longer chunked body would come back cut, then fail as
    bad JSON), so it is given one byte more: reaching it means the body is too large."""
    length = environ.get("CONTENT_LENGTH", "")
    if length.isascii() and length.isdigit() and "HTTP_TRANSFER_ENCODING" not in environ:
        if int(length) > max_content_length:
            raise RequestEntityTooLarge()
        return bytes(environ["wsgi.input"].read(int(length)))
    body = get_input_stream(environ, max_content_length=max_content_length + 1).read()
    if len(body) > max_content_length:
        raise RequestEntityTooLarge()
    return bytes(body)


def api_event(state: BeaconState, environ: Environ) -> Reply:
    body = read_body(environ, request_limit(state.settings))
    try:
        data = decode_json_body(body, state.settings.max_body_bytes)
        hit = parse_event(data, client_info(state, environ), state.clock())
    except PayloadError as exc:
        return payload_error(state, exc)
    return Reply(202, b"ok", TEXT, drop_header(ingest(state, hit)))


def pixel(state: BeaconState, environ: Environ) -> Reply:
    request = Request(environ)
    try:
        hit = parse_query_hit(request.args, request.headers.get("Referer", ""),
                              client_info(state, environ, True), state.clock())
    except PayloadError as exc:
        return payload_error(state, exc)
    return Reply(200, PIXEL, "image/gif",
                 (("Cache-Control", NO_STORE), *drop_header(ingest(state, hit))))


def bare_beacon(state: BeaconState, environ: Environ) -> Reply:
    """The minimal beacon: the page is the Referer header, the answer 204."""
    request = Request(environ)
    referer = request.headers.get("Referer", "")
    if root_page.wants_page(environ, referer, bool(request.args.get("u"))):
        # A person opening the beacon's address, not a hit: what this server is.
        return Reply(200, root_page.render(state, environ), "text/html; charset=utf-8",
                     (("Cache-Control", NO_STORE), ("Content-Security-Policy", root_page.CSP)))
    if not referer and not request.args.get("u"):
        return Reply(400, b"", None,
                     (("X-Beacon-Error", "no Referer header: nothing to count"),))
    try:
        hit = parse_query_hit(request.args, referer, client_info(state, environ, True),
                              state.clock())
    except PayloadError as exc:
        return payload_error(state, exc)
    return Reply(204, b"", None, (("Cache-Control", NO_STORE), *drop_header(ingest(state, hit))))


View = Callable[[BeaconState, Environ], Reply]
# path -> (the methods it answers, the view). GET views answer HEAD too, without a body.
HIT_VIEWS: dict[str, tuple[tuple[str, ...], View]] = {
    "/api/event": (("POST",), api_event),
    "/p.gif": (("GET", "HEAD"), pixel),
    "/": (("GET", "HEAD"), bare_beacon),
}


class HitEndpoints:
    """WSGI: answers the hit paths of `HIT_VIEWS`, passes every other request on."""

    def __init__(self, wsgi_app: Callable[[Environ, StartResponse], Iterable[bytes]],
                 state: BeaconState) -> None:
        self.wsgi_app, self.state = wsgi_app, state

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        route = HIT_VIEWS.get(environ.get("PATH_INFO", ""))
        if route is None:
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        reply = self._answer(environ, method, *route)
        headers = list(reply.headers)
        if reply.content_type is not None:
            headers.append(("Content-Type", reply.content_type))
        if reply.status != 204:
            headers.append(("Content-Length", str(len(reply.body))))
        start_response(f"{reply.status} {HTTP_STATUS_CODES[reply.status].upper()}", headers)
        return [] if method == "HEAD" or not reply.body else [reply.body]

    def _answer(self, environ: Environ, method: str, methods: tuple[str, ...],
                view: View) -> Reply:
        allowed_hosts = self.state.settings.allowed_hosts
        if allowed_hosts and host_refused(get_host(environ), environ["PATH_INFO"],
                                          allowed_hosts):
            return Reply(400, REFUSED_HOST_BODY, JSON, (REFUSED_HOST_HEADER,))
        allow = ", ".join((*methods, "OPTIONS"))
        if method == "OPTIONS":   # a CORS preflight: the CORS headers are added around us
            return Reply(204, b"", None, (("Allow", allow),))
        if method not in methods:
            return Reply(405, error_json("request", "The method is not allowed for the "
                                                    "requested URL."), JSON, (("Allow", allow),))
        try:
            return view(self.state, environ)
        except HTTPException as exc:   # e.g. 413 from reading a body over the limit
            code = exc.code if exc.code and exc.code < 500 else 400
            return Reply(code, error_json("request", exc.description or exc.name), JSON)
        except Exception:
            return internal_error(self.state, environ["PATH_INFO"])
