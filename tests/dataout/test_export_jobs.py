"""Raw-event exports queued from the dashboard and written by the worker: the same rows as
the event stream, progress against its count, a private file renamed into place when
complete, one job for the same export asked twice, a failure told in one line, a dead
worker's export failed after the lease, and the files deleted after their time."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import shared.dataout.dataframes as bdf
from shared.core import schema
from shared.dataout import export_jobs
from shared.dataout import export_queue as queue
from shared.dataout.event_stream import count_events, event_batches
from shared.demo.run import DemoSpec, run_demo
from shared.jobs.worker import JOBS, run_once
from shared.sites import require_site
from shared.storage import write_transaction

NOW = datetime(2026, 3, 10, 15, 30)
USER = 7


@pytest.fixture
def demo(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    run_demo(engine, DemoSpec("demo.test", days=10, events=2000, seed=5,
                              timezone="Europe/Berlin"), now=NOW, rebuild=False)
    return engine


def _queue(engine: Engine, fmt: str = "parquet", filters: tuple[str, ...] = (),
           period: str = "all") -> queue.ExportJob:
    query = bdf.stats_query(engine, "demo.test", period, filters=filters, now=NOW)
    with write_transaction(engine) as conn:
        return queue.request_export(conn, user_id=USER, query=query, fmt=fmt,
                                    label="the frame", now=NOW)


def _job(engine: Engine, job_id: int) -> queue.ExportJob:
    with engine.connect() as conn:
        return queue.job(conn, job_id)


def test_the_worker_writes_the_export_with_progress_in_a_private_file(
        demo: Engine, tmp_path: Path) -> None:
    queued = _queue(demo, filters=("country is DE",), period="7d")
    assert queued.status == "queued" and queued.rows_total is None
    assert "exports" in dict(JOBS)
    results = run_once(demo, NOW)
    assert results["exports"] == {"files_deleted": 0, "export": "done"}
    job = _job(demo, queued.id)
    query = bdf.stats_query(demo, "demo.test", "7d", filters=("country is DE",), now=NOW)
    expected = pa.Table.from_batches(list(event_batches(demo, query)))
    assert 0 < expected.num_rows < 2000
    assert job.status == "done" and job.error == ""
    assert job.rows_written == job.rows_total == count_events(demo, query) == expected.num_rows
    folder = tmp_path / "data" / "exports"
    path = folder / job.file_name
    assert sorted(p.name for p in folder.iterdir()) == [job.file_name]   # no .part left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert job.file_bytes == path.stat().st_size
    assert pq.read_table(path).equals(expected)


def test_ndjson_and_csv_are_the_stream_written_by_the_cli_writers(demo: Engine,
                                                                 tmp_path: Path) -> None:
    for fmt in ("ndjson", "csv"):
        job = export_jobs.run_next(demo, tmp_path / "data")
        assert job is None or job.status == "done"
        queued = _queue(demo, fmt=fmt, period="7d")
        job = export_jobs.run_next(demo, tmp_path / "data")
        assert job is not None and job.id == queued.id and job.status == "done"
        lines = (tmp_path / "data" / "exports" / job.file_name).read_text().splitlines()
        rows = len(lines) - (1 if fmt == "csv" else 0)
        assert rows == job.rows_written == job.rows_total and rows > 0
        if fmt == "ndjson":
            assert json.loads(lines[0])["site_id"] == require_site_id(demo)


def require_site_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return require_site(conn, "demo.test").id


def test_the_same_export_asked_twice_is_queued_once(demo: Engine, tmp_path: Path) -> None:
    first = _queue(demo)
    assert _queue(demo).id == first.id                     # a double click, a rerun
    other = _queue(demo, fmt="csv")
    assert other.id != first.id                            # another format: another file
    with write_transaction(demo) as conn:
        assert queue.claim_next(conn, NOW).id == first.id  # type: ignore[union-attr]
    assert _queue(demo).id == first.id                     # still running: the same one
    export_jobs.run_next(demo, tmp_path / "data")          # writes `other`
    with write_transaction(demo) as conn:
        queue.mark_done(conn, first.id, rows=0, size=0, now=NOW)
    assert _queue(demo).id != first.id                     # finished: asking again is new


def test_a_failed_export_says_what_failed_in_one_line(demo: Engine, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data-file"
    not_a_folder.write_text("")
    queued = _queue(demo)
    job = export_jobs.run_next(demo, not_a_folder)
    assert job is not None and job.id == queued.id and job.status == "failed"
    assert job.error == "the export failed writing its file: Not a directory"
    # The site deleted after the export was asked for.
    queued = _queue(demo, fmt="csv")
    with write_transaction(demo) as conn:
        conn.execute(sa.delete(schema.sites))
    job = export_jobs.run_next(demo, tmp_path / "data")
    assert job is not None and job.status == "failed"
    assert job.error == "the export failed: the site was deleted"
    assert "Traceback" not in job.error and "\n" not in job.error
    assert list((tmp_path / "data" / "exports").iterdir()) == []


def test_an_export_whose_worker_died_fails_after_the_lease(demo: Engine) -> None:
    queued = _queue(demo)
    with write_transaction(demo) as conn:
        queue.claim_next(conn, NOW)
        assert queue.claim_next(conn, NOW + queue.LEASE - timedelta(seconds=1)) is None
    assert _job(demo, queued.id).status == "running"
    with write_transaction(demo) as conn:
        assert queue.claim_next(conn, NOW + queue.LEASE + timedelta(seconds=1)) is None
    job = _job(demo, queued.id)
    assert (job.status, job.error) == ("failed", queue.INTERRUPTED)
    assert _queue(demo).id != queued.id     # and it can be asked for again


def test_files_are_deleted_after_their_time_and_strays_at_once(demo: Engine,
                                                               tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _queue(demo)
    job = export_jobs.run_next(demo, data_dir)
    assert job is not None and job.finished_at is not None
    folder = data_dir / "exports"
    stray = folder / "left-over.csv.part"
    stray.write_text("x")
    keep = timedelta(hours=24)
    assert export_jobs.clean(demo, data_dir, job.finished_at + keep - timedelta(minutes=1),
                             keep) == 1
    assert [p.name for p in folder.iterdir()] == [job.file_name]
    assert export_jobs.clean(demo, data_dir, job.finished_at + keep + timedelta(minutes=1),
                             keep) == 1
    assert list(folder.iterdir()) == []
    with demo.connect() as conn:
        assert queue.job_by_token(conn, job.token) is None


def test_the_stored_query_is_the_asked_one_dates_and_filter_groups_included(
        demo: Engine) -> None:
    from datetime import date

    from shared.stats.query import Filter

    group = Filter("", "or", (), (Filter("country", "is", ("DE",)),
                                  Filter("source", "is", ("Google",))))
    asked = bdf.stats_query(demo, "demo.test", "custom", start=date(2026, 3, 2),
                            end=date(2026, 3, 5), filters=(group,), now=NOW)
    with write_transaction(demo) as conn:
        job = queue.request_export(conn, user_id=USER, query=asked, fmt="csv",
                                   label="dates", now=NOW)
    assert job.query(asked.timezone) == asked
    assert job.download_name("demo.test") == "demo.test-events-2026-03-02-2026-03-05.csv"
