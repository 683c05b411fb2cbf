"""Serving the tracker: `GET /js/script.js` and its aliases, cacheable and public.

The files are the committed builds in shared/tracking/static/ (see tracker/ for the source). They
are read once per process. Unversioned URLs are cached for a day so a new release
reaches sites soon; `?v=<version>` URLs that name the current build are immutable for
a year. A strong ETag answers revalidations with 304. The script is loaded by other
sites' pages, so it carries `Access-Control-Allow-Origin: *` and a cross-origin
resource policy.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request

from shared.tracking.script import CORE, FULL, load_build

bp = Blueprint("tracker", __name__)

SHORT_MAX_AGE = 86_400            # unversioned URL: new releases arrive within a day
LONG_MAX_AGE = 31_536_000         # ?v=<current version>: the bytes never change

# Plausible's variant names (script.hash.outbound-links.js, ...): the script reads its
# own file name to turn on the named features, so every variant is the same file.
_VARIANT = re.compile(r"(?:script|plausible)((?:\.[a-z0-9-]{1,30}){1,12})")


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
    if header.strip() == "*":
        return True
    tags = (t.strip().removeprefix("W/").strip('"') for t in header.split(","))
    return etag in tags


def _serve(name: str) -> Response:
    build = load_build(name)
    versioned = request.args.get("v") == build.version
    max_age = LONG_MAX_AGE if versioned else SHORT_MAX_AGE
    headers = {
        "Cache-Control": f"public, max-age={max_age}"
                         + (", immutable" if versioned else ", stale-while-revalidate=3600"),
        "ETag": f'"{build.version}"',
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request.headers.get("If-None-Match", ""), build.version):
        return Response(status=304, headers=headers)
    return Response(build.body, status=200, headers=headers,
                    content_type="text/javascript; charset=utf-8")


@bp.get("/script.js")
@bp.get("/js/script.js")
def script() -> Response:
    return _serve(FULL)


@bp.get("/script.core.js")
@bp.get("/js/script.core.js")
def script_core() -> Response:
    return _serve(CORE)


@bp.get("/js/<name>.js")
def script_variant(name: str) -> Response:
    match = _VARIANT.fullmatch(name)
    if match is None:
        abort(404)
    return _serve(CORE if "core" in match.group(1).split(".") else FULL)
