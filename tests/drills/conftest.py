"""Fixtures of the drills."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.sites import add_site
from shared.storage import make_engine, migrate


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'beacon.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        add_site(conn, "example.com")
    engine.dispose()
    yield {"BEACON_DATA_DIR": str(data), "DATABASE_URL": url, "BEACON_LOG_LEVEL": "INFO",
           "BEACON_FLUSH_INTERVAL_MS": "100", "BEACON_ROLLUP_INTERVAL_SECONDS": "1"}
