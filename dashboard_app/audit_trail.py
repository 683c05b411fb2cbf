"""Changes made on the dashboard go to the audit log with the signed-in person as actor.

Each form calls `record(conn, ...)` with the connection of its own write transaction,
so the entry is kept exactly when the change is (`shared.accounts.audit`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Connection, Engine

from shared.accounts import audit


def actor() -> str:
    """The e-mail of the signed-in user of this session ("" before sign-in)."""
    access = st.session_state.get("access")
    return getattr(access, "email", None) or ""


def record(conn: Connection | Engine, action: str, target: str = "", *,
           as_actor: str | None = None, **fields: Any) -> None:
    """One audit entry from the dashboard; `as_actor` when the session has no user yet
    (sign-in)."""
    audit.record(conn, actor=as_actor or actor() or "unknown", source="dashboard",
                 action=action, target=target, **fields)
