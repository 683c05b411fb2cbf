"""Security headers on every beacon response, and the optional Host allow-list.

The beacon serves no HTML: a strict Content-Security-Policy that allows nothing costs
nothing and turns any reflected string into inert text. The tracker script and the
event endpoints are loaded cross-origin by tracked pages, so only they may be read
by other origins (Cross-Origin-Resource-Policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from flask import Blueprint, Response, current_app, request

from beacon_app.state import BeaconState

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


def _allowed_hosts() -> tuple[str, ...]:
    state: BeaconState = current_app.extensions["beacon"]
    return _parse_hosts(state.settings.allowed_hosts)   # parsed once, not per hit


@bp.before_app_request
def check_host() -> Response | None:
    allowed = _allowed_hosts()
    if not allowed or request.path in UNCHECKED_HOST_PATHS:
        return None
    if host_allowed(request.host, allowed):
        return None
    resp = Response('{"errors":[{"field":"host","message":"unknown host"}]}', status=400,
                    mimetype="application/json")
    resp.headers["X-Beacon-Error"] = "unknown host (BEACON_ALLOWED_HOSTS)"
    return resp


@bp.after_app_request
def security_headers(resp: Response) -> Response:
    # Collected in one pass and added with one extend: werkzeug's setdefault rescans the
    # whole header list per call, which cost more than the rest of a hit's handling.
    path = request.path
    script = _is_script(path)
    wanted = list(HEADERS.items())
    if not script:
        wanted.append(("Content-Security-Policy", STRICT_CSP))
    wanted.append(("Cross-Origin-Resource-Policy",
                   "cross-origin" if script or path in CROSS_ORIGIN else "same-origin"))
    present = {name.lower() for name, _ in resp.headers.items()}
    resp.headers.extend([(n, v) for n, v in wanted if n.lower() not in present])
    return resp
