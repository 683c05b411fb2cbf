"""Security headers on every beacon response, and the optional Host allow-list.

The beacon serves no HTML: a strict Content-Security-Policy that allows nothing costs
nothing and turns any reflected string into inert text. The tracker script and the
event endpoints are loaded cross-origin by tracked pages, so only they may be read
by other origins (Cross-Origin-Resource-Policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, request

bp = Blueprint("security", __name__)

STRICT_CSP = ("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
              "form-action 'none'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "interest-cohort=(), browsing-topics=()",
}
# Paths that tracked pages load from their own origin.
CROSS_ORIGIN = ("/", "/p.gif", "/api/event", "/api/events")
UNCHECKED_HOST_PATHS = ("/healthz",)   # load balancers probe by IP address


def _is_script(path: str) -> bool:
    return path.endswith(".js")


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """`stats.example.com:8000` against `stats.example.com` / `*.example.com` patterns."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip().lower().rstrip(".")
    for pattern in allowed:
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                return True
        elif name == pattern:
            return True
    return False


@lru_cache(maxsize=8)
def _parse_hosts(raw: str) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


REFUSED_HOST_BODY = b'{"errors":[{"field":"host","message":"unknown host"}]}'
REFUSED_HOST_HEADER = ("X-Beacon-Error", "unknown host (BEACON_ALLOWED_HOSTS)")


def host_refused(host: str, path: str, allowed_hosts: str) -> bool:
    """True when BEACON_ALLOWED_HOSTS (`allowed_hosts`, comma list) is set and `host`
    is not on it; parsed once, not per hit."""
    allowed = _parse_hosts(allowed_hosts)
    return bool(allowed) and path not in UNCHECKED_HOST_PATHS and not host_allowed(host, allowed)


@bp.before_app_request
def check_host() -> Response | None:
    allowed_hosts = current_app.extensions["beacon"].settings.allowed_hosts
    if not allowed_hosts or not host_refused(request.host, request.path, allowed_hosts):
        return None
    resp = Response(REFUSED_HOST_BODY, status=400, mimetype="application/json")
    resp.headers[REFUSED_HOST_HEADER[0]] = REFUSED_HOST_HEADER[1]
    return resp


# CORS: the event endpoints are called cross-origin by tracked pages; nothing else is.
EVENT_PATHS = ("/api/event", "/api/events", "/p.gif")
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
    ("Access-Control-Max-Age", "86400"),
    ("Access-Control-Expose-Headers", "X-Beacon-Drop, X-Beacon-Error"),
)


def headers_for(path: str) -> tuple[tuple[str, str], ...]:
    """The headers every response on `path` carries (unless the view set its own)."""
    script = _is_script(path)
    wanted = list(HEADERS.items())
    if not script:
        wanted.append(("Content-Security-Policy", STRICT_CSP))
    wanted.append(("Cross-Origin-Resource-Policy",
                   "cross-origin" if script or path in CROSS_ORIGIN else "same-origin"))
    if path in EVENT_PATHS:
        wanted.extend(CORS_HEADERS)
    return tuple(wanted)


def _with_names(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[tuple[str, str], ...],
                                                              frozenset[str]]:
    return headers, frozenset(name.lower() for name, _ in headers)


_KNOWN_PATH_HEADERS = {path: _with_names(headers_for(path))
                       for path in (*CROSS_ORIGIN, *EVENT_PATHS)}
_OTHER_HEADERS = _with_names(headers_for("/other"))


class ResponseHeaders:
    """WSGI middleware adding the security (and, on event paths, CORS) headers to every
    response, error pages included.

    It works on the plain WSGI header list: werkzeug's Headers validates and rescans on
    every add, which cost a tenth of a hit's whole handling time."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        extra, names = _KNOWN_PATH_HEADERS.get(path) or (
            _with_names(headers_for(path)) if _is_script(path) else _OTHER_HEADERS)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            set_by_view = names.intersection(name.lower() for name, _ in headers)
            headers.extend(extra if not set_by_view else
                           (h for h in extra if h[0].lower() not in set_by_view))
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)
