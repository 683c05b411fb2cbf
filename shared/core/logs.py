"""Structured logging: one JSON object per line on stderr.

Nothing personal is ever logged: no IP addresses, no user agents, no URLs with
query strings. Request logs of the WSGI server are configured in gunicorn.conf.py
without the client address for the same reason.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Idempotent: the first call installs the JSON handler on the root logger."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level.upper())
    # These servers log client addresses at INFO (connections, websockets): never ours.
    for name in ("uvicorn.error", "uvicorn.access", "gunicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    _configured = True
