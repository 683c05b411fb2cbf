"""A live Beacon (the production server process) with demo traffic, a site key and a
few visitors of the last minutes, for the client tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from shared.accounts.api_keys import create_key
from shared.core.clock import utc_now
from shared.demo.run import DemoSpec, run_demo
from shared.reports.funnels import FunnelStep, add_funnel
from shared.reports.realtime import current_visitors
from shared.sites import add_site, require_site
from shared.storage import make_engine
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import BeaconServer

SITE = "example.com"        # the domain BeaconServer.send_event reports to


@dataclass
class Live:
    server: BeaconServer
    engine: Engine
    token: str
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


@pytest.fixture
def live(db_url: str, tmp_path: Path, servers: list[BeaconServer]) -> Iterator[Live]:
    engine = make_engine(db_url)
    # Demo traffic ends an hour ago: the realtime count is only the visitors sent below.
    run_demo(engine, DemoSpec(SITE, days=10, events=3000, seed=5, timezone="Europe/Berlin"),
             now=utc_now() - timedelta(hours=1), rebuild=False)
    with engine.begin() as conn:
        site = require_site(conn, SITE)
        token, _ = create_key(conn, site.id, "clients")
        add_funnel(conn, site.id, "Pricing to signup", [FunnelStep("page", "/"),
                                                         FunnelStep("page", "/pricing"),
                                                         FunnelStep("event", "Signup")],
                   now=utc_now())
        add_site(conn, "other.example")
    env = {"DATABASE_URL": db_url, "BEACON_DATA_DIR": str(tmp_path / "data"),
           "BEACON_FLUSH_INTERVAL_MS": "100", "BEACON_LOG_LEVEL": "WARNING"}
    server = BeaconServer(env).start()
    servers.append(server)
    for i in range(3):
        ua = CHROME_UA.replace("Chrome/124", f"Chrome/12{i}")     # three visitors
        status, _ = server.send_event(f"/live/{i}", ua)
        assert status == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if current_visitors(conn, site.id, utc_now()) == 3:
                break
        time.sleep(0.2)
    yield Live(server, engine, token, env)
    engine.dispose()
