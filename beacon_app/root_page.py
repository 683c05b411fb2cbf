"""The page a person sees who opens the beacon's root URL in a browser (as `make run` and
`beacon serve` print it): what this server is, where the dashboard is, and its health.

The root path is also the bare beacon (`GET /` with the page in the Referer counts a
page view), so only a page load gets this page: a browser's top-level navigation
(Sec-Fetch-Mode: navigate - a person following a link to the beacon is not a page view
of the site they came from), or a request asking for HTML with nothing to count. An
image or a ping with nothing to count still gets the 400 naming the reason: a success
answer would claim a hit that was not kept.
Nothing in it comes from the request, so there is nothing to escape.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from beacon_app.state import BeaconState

# Set by `beacon web` (beacon_cli/web.py) on the requests it passes to the beacon: the
# path of the dashboard on the same port.
DASHBOARD_PATH_KEY = "beacon.dashboard_path"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Beacon Analytics - beacon</title>
<style>{style}</style></head><body>
<h1>Beacon Analytics</h1>
<p>This server counts page views for the sites that embed its tracking script
(<code>/script.js</code>, events to <code>/api/event</code>, the no-script pixel
<code>/p.gif</code>). It sets no cookies and keeps no IP addresses.</p>
<p><strong>Dashboard:</strong> {dashboard}</p>
<p><strong>Health:</strong> <span class="{health_class}">{health}</span>
(details: <a href="/healthz">/healthz</a>)</p>
</body></html>
"""


_STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;"
          "padding:0 1rem;color:#1f2430}h1{font-size:1.4rem}code{background:#f0f2f8;"
          "padding:0 .25rem;border-radius:3px}.ok{color:#1a7f37}.warn{color:#b35900}"
          "a{color:#4f6bed}")
# The beacon's strict policy, plus this one inline style by its hash: no script at all.
CSP = ("default-src 'none'; style-src 'sha256-"
       + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
       + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def wants_page(environ: Mapping[str, object], referer: str, has_url: bool) -> bool:
    """True when the request to / is a person's visit, not a hit."""
    if environ.get("HTTP_SEC_FETCH_MODE") == "navigate":
        return True
    accept = str(environ.get("HTTP_ACCEPT", ""))
    return not referer and not has_url and "text/html" in accept


def render(state: BeaconState, environ: Mapping[str, object]) -> bytes:
    """The page, for the beacon alone or under `beacon web` (the dashboard's path)."""
    path = environ.get(DASHBOARD_PATH_KEY)
    if isinstance(path, str):
        dashboard = f'<a href="{path}">{path}</a> on this address.'
    else:
        dashboard = ("its own process (<code>beacon dashboard</code>), on port "
                     f"{int(state.settings.dashboard_port)} of this machine by default.")
    stale = [name for name, status in (("sites", state.sites.status()),
                                       ("salts", state.salts.status()))
             if not status.get("ok", True)]
    health = ("serving; working from its saved copy of " + " and ".join(stale)
              if stale else "serving")
    return _PAGE.format(style=_STYLE, dashboard=dashboard, health=health,
                        health_class="warn" if stale else "ok").encode()
