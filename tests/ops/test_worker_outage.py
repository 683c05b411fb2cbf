"""The worker while its database cannot be reached: one warning per outage, no traceback
per job and round, and the loop keeps running (its work is marked in the database, so
the rounds after the outage catch up)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from shared.jobs.worker import run_worker
from shared.storage import make_engine
from tests.beacon.server import free_port


def test_unreachable_database_is_logged_once_and_retried(
        caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/beacon")
    with caplog.at_level(logging.WARNING):
        rounds = run_worker(engine, 0.01, clock=lambda: datetime(2026, 3, 10, 12),
                            max_rounds=4)
    engine.dispose()
    assert rounds == 4
    said = [r for r in caplog.records if r.name == "shared.jobs.worker"]
    assert len(said) == 1 and "database unavailable" in said[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]
