"""Test helpers for the beacon: build an app on a test database, read stored rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from beacon_app import create_app, state_of
from shared.core import schema
from shared.core.settings import Settings
from shared.sites import add_site

CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/124.0.0.0 Safari/537.36")
IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
LONDON_IP = "81.2.69.142"


CREATED: list[Flask] = []   # stopped after each test by `stop_created_writers`


@pytest.fixture(autouse=True)
def stop_created_writers() -> Iterator[None]:
    """Stop the writer threads of the apps a test built, so none outlives its database
    (used, by importing it, in the conftest of each folder whose tests build apps)."""
    yield
    while CREATED:
        state = state_of(CREATED.pop())
        state.writer.stop(timeout=10)
        state.sites.close()
        state.salts.close()
        state.engine.dispose()


def make_app(settings: Settings, clock: Callable[[], datetime] | None = None,
             **site_options: Any) -> Flask:
    app = create_app(settings, clock=clock)
    CREATED.append(app)
    with state_of(app).engine.begin() as conn:
        add_site(conn, "example.com", **site_options)
    return app


def browser_headers(**extra: str) -> dict[str, str]:
    headers = {"User-Agent": CHROME_UA, "X-Forwarded-For": LONDON_IP,
               "Accept-Language": "de-AT,de;q=0.9,en;q=0.8",
               # what every browser sends with an image request (the pixel checks them)
               "Accept": "image/avif,image/webp,image/apng,*/*;q=0.8",
               "Accept-Encoding": "gzip, deflate, br, zstd"}
    headers.update(extra)
    return headers


def stored_events(app: Flask) -> list[dict[str, Any]]:
    state = state_of(app)
    assert state.writer.flush(30), "writer did not flush in time"
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.events).order_by(schema.events.c.ts,
                                                              schema.events.c.id))
        return [dict(r._mapping) for r in rows]


def drop_counts(app: Flask) -> dict[str, int]:
    state = state_of(app)
    state.writer.flush(30)
    state.metrics.flush_drops(state.engine)
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.drop_counts.c.reason,
                                      sa.func.sum(schema.drop_counts.c.count))
                            .group_by(schema.drop_counts.c.reason))
        return {r[0]: int(r[1]) for r in rows}
