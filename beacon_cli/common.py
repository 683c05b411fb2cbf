"""Helpers shared by the command modules: settings, engine, output."""

from __future__ import annotations

import getpass
import json
import socket
import sys
from typing import Any

from sqlalchemy.engine import Connection, Engine

from shared.accounts import audit
from shared.core.settings import Settings, load_settings
from shared.storage import make_engine


def settings_and_engine() -> tuple[Settings, Engine]:
    settings = load_settings()
    return settings, make_engine(settings.resolved_database_url)


def emit(rows: list[dict[str, Any]], as_json: bool) -> None:
    """Print rows as JSON lines (for scripts) or an aligned table (for people)."""
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    if not rows:
        print("(none)")
        return
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    sys.stdout.flush()


def cli_actor() -> str:
    """Who runs this command, for the audit log: the system account and the machine
    (a command has no dashboard sign-in; the system account is what an auditor can
    trace)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def audited(conn: Connection | Engine, action: str, target: str = "", **fields: Any) -> None:
    """Record a change made by this command, in the change's own transaction."""
    audit.record(conn, actor=cli_actor(), source="cli", action=action, target=target,
                 **fields)
