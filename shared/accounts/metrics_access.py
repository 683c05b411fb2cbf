"""Who may read the operations metrics (the beacon's /metrics, the dashboard's
/_stcore/metrics): they show traffic per site and server internals, so not everyone.

With BEACON_METRICS_TOKEN set, a scraper sends `Authorization: Bearer <token>` from
anywhere. Without it, only a direct connection from this machine (loopback address, no
proxy header) is answered: a scraper on the same host, never a visitor through the
reverse proxy. Everyone else gets 403 with the reason.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

REFUSED = ("metrics need `Authorization: Bearer <BEACON_METRICS_TOKEN>`, or a direct "
           "connection from this machine when no token is set")
_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def _loopback(peer: str) -> bool:
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def metrics_allowed(token: str, peer: str, header: Callable[[str], str | None]) -> bool:
    """`header(name)` returns a request header (lower-case name) or None."""
    if token:
        given = header("authorization") or ""
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return _loopback(peer) and not any(header(name) for name in _PROXY_HEADERS)
