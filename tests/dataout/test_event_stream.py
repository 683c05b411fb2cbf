"""Raw events out as Arrow: one schema from every backend, exact batches, NULLs kept where
the driver guesses types, filters in the SQL, formula-safe CSV, stable bytes, and
`beacon export events` options (--period dates, a closed pipe)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import shared.dataout.dataframes as bdf
from beacon_cli.export import parse_period
from beacon_cli.main import main
from shared.core import schema
from shared.core.records import Event
from shared.dataout.arrow_writers import neutralised, write_batches
from shared.dataout.event_schema import events_schema
from shared.dataout.event_stream import count_events, event_batches, resolved
from shared.dataout.export import neutralise
from shared.demo.run import DemoSpec, run_demo
from shared.ingest.events import write_events
from shared.sites import require_site

NOW = datetime(2026, 3, 10, 15, 30)
E = schema.events


@pytest.fixture
def demo(engine: Engine) -> Engine:
    run_demo(engine, DemoSpec("demo.test", days=10, events=3000, seed=11,
                              timezone="America/New_York"), now=NOW, rebuild=False)
    return engine


def _count(engine: Engine, *where: sa.ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(E).where(*where)) or 0)


def test_batches_have_one_schema_exact_sizes_and_all_rows(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "all", now=NOW)
    batches = list(event_batches(demo, q, batch_rows=700))
    assert [b.num_rows for b in batches[:-1]] == [700] * (len(batches) - 1)
    assert all(b.schema == events_schema() for b in batches)
    table = pa.Table.from_batches(batches)
    assert table.num_rows == _count(demo) == count_events(demo, q) == 3000
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("uid").type == pa.int64()
    assert table.schema.field("click_id").type == pa.bool_()
    with demo.connect() as conn:
        stored = conn.execute(sa.select(E.c.uid, E.c.ts, E.c.revenue_amount, E.c.engagement_ms,
                                        E.c.props).order_by(E.c.ts, E.c.id)).all()
    assert table.column("uid").to_pylist() == [r.uid for r in stored]
    assert [t.replace(tzinfo=None) for t in table.column("ts").to_pylist()] == \
        [r.ts for r in stored]
    assert table.column("revenue_amount").to_pylist() == [r.revenue_amount for r in stored]
    assert table.column("engagement_ms").to_pylist() == [r.engagement_ms for r in stored]
    assert [json.loads(p) for p in table.column("props").to_pylist()] == \
        [r.props for r in stored]


def test_nulls_survive_where_a_whole_batch_is_null(engine: Engine) -> None:
    """SQLite's ADBC driver guesses a column's type from its first batch: an all-NULL
    first batch must not make later values fail or turn into the wrong type."""
    with engine.begin() as conn:
        site = require_site(conn, _add(conn, "nulls.test"))
        rows = [Event(site_id=site.id, ts=NOW - timedelta(hours=5) + timedelta(seconds=i),
                      name="Purchase" if i >= 6 else "pageview", uid=1000 + i, visitor_id=1,
                      session_id=1, revenue_amount=9.5 if i >= 6 else None,
                      revenue_currency="EUR" if i >= 6 else None,
                      scroll_depth=40 if i >= 6 else None).to_row() for i in range(8)]
        write_events(conn, rows)
    q = bdf.stats_query(engine, "nulls.test", "all", now=NOW)
    table = pa.Table.from_batches(event_batches(engine, q, batch_rows=3))
    assert table.column("revenue_amount").to_pylist() == [None] * 6 + [9.5, 9.5]
    assert table.column("revenue_currency").to_pylist() == [None] * 6 + ["EUR", "EUR"]
    assert table.column("scroll_depth").to_pylist() == [None] * 6 + [40, 40]


def _add(conn: sa.Connection, domain: str) -> str:
    from shared.sites import add_site

    add_site(conn, domain, now=NOW)
    return domain


@pytest.mark.parametrize("filters", [["country is DE"], ["entry_page is /"],
                                     ["page matches /blog/**"], ["source is Google",
                                                                 "device is mobile"]],
                         ids=["event", "visit", "regex", "two"])
def test_filters_are_the_dataframe_api_s(demo: Engine, filters: list[str]) -> None:
    q = bdf.stats_query(demo, "demo.test", "all", now=NOW, filters=filters)
    table = pa.Table.from_batches(event_batches(demo, q, batch_rows=500))
    assert table.num_rows == count_events(demo, q)
    stmt = bdf.events_select(resolved(demo, q), _dialect(demo))   # "all": from the first event
    expected = sa.select(E.c.uid).where(stmt.whereclause)
    with demo.connect() as conn:
        uids = [r.uid for r in conn.execute(expected.order_by(E.c.ts, E.c.id))]
    assert table.column("uid").to_pylist() == uids and uids


def _dialect(engine: Engine) -> object:
    from shared.storage import dialect_for

    return dialect_for(engine)


def test_neutralised_matches_neutralise_for_every_first_character() -> None:
    texts = [chr(c) + "x" for c in range(1, 0x3100)] + ["", "plain", "\uff20x", "\U0001F600"]
    got = neutralised(pa.array(texts)).to_pylist()
    assert got == [neutralise(t) for t in texts]


def _cli_export(url: str, monkeypatch: pytest.MonkeyPatch, out: Path, *args: str) -> bytes:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["export", "events", "--site", "demo.test", "--period", "all", "--quiet",
                 "--force", "-o", str(out), *args]) == 0
    return out.read_bytes()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson"])
def test_exports_are_byte_for_byte_stable(demo: Engine, db_url: str, fmt: str,
                                          tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = _cli_export(db_url, monkeypatch, tmp_path / f"a.{fmt}", "--format", fmt)
    second = _cli_export(db_url, monkeypatch, tmp_path / f"b.{fmt}", "--format", fmt,
                         "--chunk-size", "100000")
    assert first == second and len(first) > 10_000


def test_csv_and_ndjson_types(demo: Engine, db_url: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    text = _cli_export(db_url, monkeypatch, tmp_path / "e.csv").decode()
    header, first = text.splitlines()[:2]
    assert header.startswith('"uid","site_id","ts"')
    ts = first.split(",")[2].strip('"')
    assert datetime.fromisoformat(ts).utcoffset() == timedelta(0) and "T" in ts
    lines = _cli_export(db_url, monkeypatch, tmp_path / "e.ndjson", "--format", "ndjson")
    rows = [json.loads(line) for line in lines.decode().splitlines()]
    assert len(rows) == 3000 and isinstance(rows[0]["props"], dict)
    assert isinstance(rows[0]["uid"], int) and isinstance(rows[0]["interactive"], bool)
    assert any(r["revenue_amount"] is not None for r in rows)


def test_hostile_strings_in_ndjson_and_csv(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        site = require_site(conn, _add(conn, "hostile.test"))
        evil = 'a"b\\c\nd\re\tf\x01g\u2028h=' + "\U0001F600"
        write_events(conn, [Event(site_id=site.id, ts=NOW - timedelta(hours=1), name="x",
                                  uid=5, visitor_id=1, session_id=1, pathname=evil,
                                  referrer="=cmd", props={"k": evil}).to_row()])
    q = bdf.stats_query(engine, "hostile.test", "all", now=NOW)
    out = tmp_path / "h.ndjson"
    with out.open("wb") as handle:
        write_batches(event_batches(engine, q), "ndjson", handle, events_schema())
    row = json.loads(out.read_text())
    assert row["pathname"] == evil and row["props"] == {"k": evil}
    with (tmp_path / "h.csv").open("wb") as handle:
        write_batches(event_batches(engine, q), "csv", handle, events_schema())
    assert "'=cmd" in (tmp_path / "h.csv").read_text()


def test_period_accepts_explicit_days() -> None:
    assert parse_period("2026-02-01..2026-02-28") == {
        "period": "custom", "start": date(2026, 2, 1), "end": date(2026, 2, 28)}
    assert parse_period("30d") == {"period": "30d"}
    with pytest.raises(ValueError, match="dates must look like"):
        parse_period("2026-02-01..soon")
    with pytest.raises(ValueError, match="after the last"):
        parse_period("2026-03-01..2026-02-01")


def test_export_of_explicit_days(demo: Engine, db_url: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "d.parquet"
    assert main(["export", "events", "--site", "demo.test", "--period", "2026-03-05..2026-03-06",
                 "--format", "parquet", "--quiet", "-o", str(out)]) == 0
    days = {t.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).date()
            for t in pq.read_table(out).column("ts").to_pylist()}
    assert days == {date(2026, 3, 5), date(2026, 3, 6)}


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_closed_pipe_ends_quietly(demo: Engine, db_url: str, fmt: str) -> None:
    command = [sys.executable, "-m", "beacon_cli.main", "export", "events", "--site",
               "demo.test", "--period", "all", "--format", fmt, "--chunk-size", "200",
               "-o", "-"]
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(100)
        proc.stdout.close()                 # `| head -c 100`
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert code == 0
    assert "Broken pipe" not in err and "Traceback" not in err and "Errno" not in err
    assert "3.00k" in err or "3000" in err           # the bar shows the total
