"""The dashboard while its database cannot be reached: a plain message, never a traceback."""

from __future__ import annotations

import pytest
import streamlit as st

from tests.beacon.server import free_port
from tests.dashboard.conftest import app_as


def test_unreachable_database_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    nobody_listens = f"postgresql://postgres@127.0.0.1:{free_port()}/beacon"
    monkeypatch.setenv("DATABASE_URL", nobody_listens)
    monkeypatch.delenv("BEACON_ENV", raising=False)
    st.cache_resource.clear()
    at = app_as("admin@example.com").run()   # (the sign-in form needs no database)
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] and "database is unavailable" in at.error[0].value
    assert "retrying" in at.error[0].value
    assert "127.0.0.1" not in " ".join(e.value for e in at.error)   # details go to the log
