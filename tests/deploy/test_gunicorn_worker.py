"""The beacon's gunicorn worker shares bursts of new connections between workers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from beacon_app import gunicorn_worker
from beacon_app.gunicorn_worker import FairThreadWorker


@pytest.mark.parametrize(("held", "threads", "yields"), [
    (0, 8, False), (7, 8, False), (8, 8, True), (30, 8, True), (2, 2, True)])
def test_a_worker_holding_a_connection_per_thread_yields_before_accepting(
        monkeypatch: pytest.MonkeyPatch, held: int, threads: int, yields: bool) -> None:
    events: list[str] = []
    monkeypatch.setattr(gunicorn_worker.os, "sched_yield", lambda: events.append("yield"))
    monkeypatch.setattr(ThreadWorker, "accept", lambda self, listener: events.append("accept"))
    worker = object.__new__(FairThreadWorker)
    worker.nr_conns = held
    worker.cfg = SimpleNamespace(threads=threads)
    worker.accept(object())
    assert events == (["yield", "accept"] if yields else ["accept"])


def test_the_production_config_uses_it() -> None:
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text()
    assert 'worker_class = "beacon_app.gunicorn_worker.FairThreadWorker"' in conf
