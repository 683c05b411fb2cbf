"""Helpers shared by the command modules: settings, engine, output."""

from __future__ import annotations

import json
import sys
from typing import Any

from sqlalchemy.engine import Engine

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
