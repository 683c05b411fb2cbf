"""Notify stage: the webhook signature, and the check a receiver runs.

Header `X-Beacon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the HMAC is
keyed with the webhook's secret over `"<t>." + body` (the exact bytes sent). The time
inside the signed text makes a captured request useless later: a receiver refuses a
`t` older than its tolerance. Only the standard library, so a receiver can copy this
file as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Beacon-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>." + body` keyed with `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the X-Beacon-Signature header for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *, now: float | None = None,
                     tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """True when `header` signs `body` with `secret` and its time is within `tolerance`
    seconds of `now` (default: this machine's clock). Compares in constant time."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
