"""Streamlit's own log lines as JSON, like every other line of ours (shared/core/logs.py).

Streamlit gives each logger it makes - uvicorn's too, under `beacon web` - a plain-text
handler of its own. Those made already, and those it makes later (its
`setup_formatter`), write through the root's JSON handler instead. uvicorn logs each
websocket's client address at INFO, so `configure_logging` keeps its loggers at WARNING.
"""

from __future__ import annotations

import logging

import streamlit.logger as streamlit_logger

from shared.core.logs import configure_logging, send_to_root

_LIBRARIES = ("streamlit", "uvicorn", "websockets")


def use_json_logs(level: str) -> None:
    """Idempotent; cheap enough for every run of the dashboard script."""
    if streamlit_logger.setup_formatter is not send_to_root:
        streamlit_logger.setup_formatter = send_to_root
        streamlit_logger.init_uvicorn_logs()
        for name in list(logging.root.manager.loggerDict):
            if name.split(".")[0] in _LIBRARIES:
                send_to_root(logging.getLogger(name))
    configure_logging(level)
