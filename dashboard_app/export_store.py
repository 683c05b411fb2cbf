"""Exports prepared on the Export page, held in memory for the user who made them.

Streamlit serves `st.download_button` files from /media/ to anyone who has the URL,
for minutes after the session ended. Exports (raw events above all) are served by
`guard` instead, from here: only to a request whose sign-in cookie is the same user's,
for EXPIRY_SECONDS, the last few per user; signing out ends the cookie, and with it
every link.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

EXPIRY_SECONDS = 600
PER_USER = 3


@dataclass(frozen=True)
class AuditNote:
    """What the audit log says when the file is downloaded (by `guard`, which knows
    that it was)."""

    action: str
    target: str
    site_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    user_id: int
    data: bytes
    mime: str
    filename: str
    audit: AuditNote | None = None
    expires: float = field(default_factory=lambda: time.monotonic() + EXPIRY_SECONDS)


_lock = threading.Lock()
_prepared: dict[str, Prepared] = {}


def _expire(now: float) -> None:
    for key in [k for k, p in _prepared.items() if p.expires <= now]:
        del _prepared[key]


def put(user_id: int, data: bytes, mime: str, filename: str,
        audit: AuditNote | None = None) -> str:
    """Keep an export for `user_id`; returns its id (random, for the download URL)."""
    export_id = secrets.token_urlsafe(24)
    with _lock:
        _expire(time.monotonic())
        mine = [k for k, p in _prepared.items() if p.user_id == user_id]
        for key in mine[:max(0, len(mine) - PER_USER + 1)]:
            del _prepared[key]
        _prepared[export_id] = Prepared(user_id, data, mime, filename, audit=audit)
    return export_id


def take(export_id: str, user_id: int) -> Prepared | None:
    """The export `export_id` if it is live and belongs to `user_id`."""
    with _lock:
        _expire(time.monotonic())
        prepared = _prepared.get(export_id)
    return prepared if prepared is not None and prepared.user_id == user_id else None

