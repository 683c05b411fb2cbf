"""Structured logging: one JSON object per line on stderr.

Nothing personal is ever logged: no IP addresses, no user agents, no URLs with
query strings. The servers' own loggers (gunicorn's, uvicorn's) write through the same
JSON handler (`server_log_config`), with their request logs off for the same reason.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_configured = False
# These servers log client addresses at INFO (connections, websockets, each request):
# never ours, so they only pass warnings and errors.
QUIET_SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access", "gunicorn.access")


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
    """Idempotent: the first call installs the JSON handler on the root logger (unless a
    server installed it already, through `server_log_config`)."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level.upper())
    for name in QUIET_SERVER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if _configured or any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        _configured = True
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    _configured = True


def server_log_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for a server process (gunicorn's `logconfig_dict`):
    one JSON handler on stderr at the root, and the servers' own loggers (which
    otherwise print plain text through handlers of their own) sending their lines
    there."""
    servers = ("gunicorn", "gunicorn.error", "uvicorn", *QUIET_SERVER_LOGGERS)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {name: {"level": "WARNING" if name in QUIET_SERVER_LOGGERS else
                           level.upper(), "handlers": [], "propagate": True}
                    for name in servers},
    }


def send_to_root(logger: logging.Logger) -> None:
    """Make a library's logger that installed a plain-text handler of its own write
    through the root's JSON handler instead."""
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True
