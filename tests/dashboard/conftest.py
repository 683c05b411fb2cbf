"""Dashboard fixtures: a seeded database (through the real write path) and AppTest runs.

The demo generator writes events with `shared.ingest.events.write_events` and rebuilds the
rollups, so the dashboard reads exactly what production would. Users: an admin, an
owner and a viewer of the demo site.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from shared.accounts import users as auth
from shared.demo.run import DemoSpec, run_demo
from shared.sites import Site, get_site

APP = Path(__file__).resolve().parents[2] / "dashboard_app" / "app.py"
PASSWORD = "dashboard test password"  # noqa: S105 - test accounts only
DOMAIN = "demo.example"


@dataclass(frozen=True)
class Seeded:
    url: str
    engine: Engine
    site: Site


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def seeded(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("BEACON_ENV", raising=False)
    run_demo(engine, DemoSpec(domain=DOMAIN, days=40, events=6000, seed=7, noise_sites=1),
             now=utcnow(), rebuild=False)  # dirty days: reports read raw events
    with engine.begin() as conn:
        auth.add_user(conn, "admin@example.com", PASSWORD, is_admin=True)
        auth.add_user(conn, "owner@example.com", PASSWORD)
        auth.add_user(conn, "viewer@example.com", PASSWORD)
        auth.grant_role(conn, "owner@example.com", DOMAIN, "owner")
        auth.grant_role(conn, "viewer@example.com", DOMAIN, "viewer")
        site = get_site(conn, DOMAIN)
    assert site is not None
    st.cache_data.clear()  # reports cached by an earlier test on the same URL
    yield Seeded(db_url, engine, site)
    st.cache_data.clear()


def app_as(email: str | None, timeout: float = 60, **params: str | list[str]) -> AppTest:
    """An AppTest of the dashboard, signed in as `email` (None: not signed in)."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    if email:
        at.session_state["auth_user_email"] = email
    return at


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at
