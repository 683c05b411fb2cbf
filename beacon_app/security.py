"""Security headers on every beacon response, and the optional Host allow-list.

The beacon serves no HTML: a strict Content-Security-Policy that allows nothing costs
nothing and turns any reflected string into inert text. The tracker script and the
event endpoints are loaded cross-origin by tracked pages, so only they may be read
by other origins (Cross-Origin-Resource-Policy).
"""

from __future__ import annotations

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


def host_allowed(host: str, allowed: list[str]) -> bool:
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


def _allowed_hosts() -> list[str]:
    state: BeaconState = current_app.extensions["beacon"]
    raw = state.settings.allowed_hosts
    return [h.strip().lower() for h in raw.split(",") if h.strip()]


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
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    path = request.path
    if not _is_script(path):
        resp.headers.setdefault("Content-Security-Policy", STRICT_CSP)
    cross = _is_script(path) or path in CROSS_ORIGIN
    resp.headers.setdefault("Cross-Origin-Resource-Policy",
                            "cross-origin" if cross else "same-origin")
    return resp
