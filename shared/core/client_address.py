"""The client's IP address, trusting X-Forwarded-For only as far as told (the beacon's
enrichment step and the dashboard's sign-in throttle both ask it).

Each reverse proxy appends the address it received the connection from. With N trusted
proxies the N-th entry from the right is what the outermost trusted proxy saw; anything
further left was written by the client and can be forged, so it is never used.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

# A header longer than this is not from a sane proxy chain; parsing it would only cost CPU.
_MAX_HEADER = 4096


@lru_cache(maxsize=8192)   # a visitor's hits come from one address: parse it once
def _valid(raw: str) -> str:
    """`raw` as a canonical IP address string, or "" when it is not one.

    Accepts the forms proxies really send: `1.2.3.4:5678`, `[2001:db8::1]:443`, and an
    IPv4-mapped IPv6 address (returned as plain IPv4 so geo lookup and ignore lists work).
    """
    text = raw.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]  # an IPv6 zone id says nothing about the client
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def client_ip(remote_addr: str, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The client address: the socket peer, or the trusted hop of X-Forwarded-For.

    Falls back to `remote_addr` when the header is missing, shorter than the proxy chain
    or garbage at the trusted position; "" when nothing valid is left.
    """
    if trusted_proxies > 0 and forwarded_for and len(forwarded_for) <= _MAX_HEADER:
        hops = forwarded_for.split(",")
        if len(hops) >= trusted_proxies:
            candidate = _valid(hops[-trusted_proxies])
            if candidate:
                return candidate
    return _valid(remote_addr or "")
