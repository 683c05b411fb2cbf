"""`beacon import events`: an export read back into the other backend gives the same rows
and the same reports; a second import adds nothing; bad rows are counted and shown."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import shared.dataout.dataframes as bdf
from beacon_cli.main import main
from shared.core import schema
from shared.core.records import Event
from shared.demo.run import DemoSpec, run_demo
from shared.imports.events import import_events
from shared.ingest.events import write_events
from shared.rollups.build import rebuild_dirty
from shared.rollups.mark import mark_dirty_days
from shared.sites import add_site, require_site
from shared.stats.dimensions import DIMENSIONS
from shared.storage import make_engine

NOW = datetime(2026, 3, 10, 15, 30)
DOMAIN = "trip.test"


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def both(sqlite_url: str, pg_url: str) -> Iterator[dict[str, tuple[str, Engine]]]:
    engines = {"sqlite": (sqlite_url, make_engine(sqlite_url)),
               "postgresql": (pg_url, make_engine(pg_url))}
    for _, engine in engines.values():
        _empty(engine)
    yield engines
    for _, engine in engines.values():
        engine.dispose()


def _source(engine: Engine) -> None:
    run_demo(engine, DemoSpec(DOMAIN, days=12, events=2500, seed=3, timezone="Asia/Tokyo"),
             now=NOW, rebuild=True)
    with engine.begin() as conn:
        site = require_site(conn, DOMAIN)
        write_events(conn, [Event(
            site_id=site.id, ts=datetime(2026, 3, 9, 1, 2, 3, 456789), name="Purchase",
            uid=77, visitor_id=2**62 + 5, session_id=-(2**62), pathname="/ü/=1+1",
            props={"plan": "=pro", "note": 'q"\\\n'}, revenue_amount=0.1 + 0.2,
            revenue_currency="EUR", engagement_ms=0, scroll_depth=100).to_row()])
        mark_dirty_days(conn, [(site.id, date(2026, 3, 9))], NOW)   # 10:02 in Tokyo
    rebuild_dirty(engine, NOW)


def _export(url: str, out: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["export", "events", "--site", DOMAIN, "--period", "all", "--format", fmt,
                 "--quiet", "--force", "-o", str(out)]) == 0
    return out


def _canonical(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as sorted tuples, floats to 6 digits: the databases sum and average in their
    own order, and they order ties in a breakdown their own way."""
    def cell(v: object) -> object:
        if isinstance(v, float):
            return None if v != v else float(f"{v:.6g}")
        return None if v is pd.NA else v
    return sorted((tuple(cell(v) for v in row) for row in frame.itertuples(index=False, name=None)),
                  key=repr)


def _reports(engine: Engine) -> dict[str, object]:
    q = bdf.stats_query(engine, DOMAIN, "30d", now=NOW, interval="day",
                        comparison="previous_period")
    found: dict[str, object] = {
        "totals": _canonical(bdf.totals_df(engine, q).reset_index()),
        "change": _canonical(pd.DataFrame([bdf.totals_df(engine, q).attrs["change"]])),
        "timeseries": _canonical(bdf.timeseries_df(engine, q).reset_index()),
    }
    for dimension in DIMENSIONS:
        found[dimension] = _canonical(bdf.breakdown_df(engine, q, dimension, limit=1000))
    found["filtered"] = _canonical(bdf.breakdown_df(
        engine, q.with_filters(bdf.parse_filter("country is DE")), "page"))
    return found


@pytest.mark.postgres
@pytest.mark.parametrize("source,target", [("sqlite", "postgresql"), ("postgresql", "sqlite")])
@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_round_trip_across_backends_is_exact(
        both: dict[str, tuple[str, Engine]], source: str, target: str, fmt: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (src_url, src), (dst_url, dst) = both[source], both[target]
    _source(src)
    with dst.begin() as conn:
        add_site(conn, DOMAIN, timezone="Asia/Tokyo", now=NOW)
    first = _export(src_url, tmp_path / f"a.{fmt}", fmt, monkeypatch)
    monkeypatch.setenv("DATABASE_URL", dst_url)
    assert main(["import", "events", str(first), "--site", DOMAIN, "--quiet"]) == 0
    again = _export(dst_url, tmp_path / f"b.{fmt}", fmt, monkeypatch)
    same_site_ids = _site_id(src) == _site_id(dst)
    if same_site_ids:
        assert first.read_bytes() == again.read_bytes()
    if fmt == "parquet":
        a, b = pq.read_table(first), pq.read_table(again)
        assert a.drop_columns(["site_id"]).equals(b.drop_columns(["site_id"]))
        assert a.schema == b.schema
    before, after = _reports(src), _reports(dst)
    assert [name for name, rows in before.items() if not _same(rows, after[name])] == []


def _same(a: object, b: object) -> bool:
    """Equal, floats within 1e-5 relative or a millisecond (see `_canonical`)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-3)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _site_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return require_site(conn, DOMAIN).id


def test_second_import_adds_nothing(engine: Engine, db_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _source(engine)
    out = _export(db_url, tmp_path / "e.parquet", "parquet", monkeypatch)
    _empty(engine)
    with engine.begin() as conn:
        site = add_site(conn, "copy.test", timezone="Asia/Tokyo", now=NOW)
    first = import_events(engine, out, site)
    assert first.added == first.read == 2501 and first.bad == 0
    second = import_events(engine, out, site)
    assert (second.added, second.already, second.bad) == (0, 2501, 0)
    with engine.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(schema.events))
    assert count == 2501
    assert main(["import", "events", str(out), "--site", "copy.test", "--quiet"]) == 0
    assert "0 added, 2,501 already stored, 0 refused" in capsys.readouterr().err


def test_bad_rows_are_counted_shown_and_do_not_stop_good_ones(
        engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _source(engine)
    good = _export(db_url, tmp_path / "e.ndjson", "ndjson", monkeypatch).read_text()
    lines = good.splitlines()[:10]
    broken = json.loads(lines[3])
    broken["country"] = "DEU-too-long"
    missing = json.loads(lines[5])
    del missing["uid"]
    wrong = json.loads(lines[6])
    wrong["props"] = ["not", "an", "object"]
    naive = json.loads(lines[7])
    naive["ts"] = naive["ts"][:19]
    lines[3], lines[5], lines[6], lines[7] = (json.dumps(broken), json.dumps(missing),
                                              json.dumps(wrong), json.dumps(naive))
    lines.insert(8, "{not json")
    path = tmp_path / "bad.ndjson"
    path.write_text("\n".join(lines) + "\n")
    _empty(engine)
    with engine.begin() as conn:
        add_site(conn, DOMAIN, now=NOW)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["import", "events", str(path), "--site", DOMAIN, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "read 11 rows: 6 added, 0 already stored, 5 refused" in err
    for needle in ("row 4: country is longer than 2", "row 6: missing uid",
                   "row 8: ts has no time zone", "row 9:"):
        assert needle in err
    assert "row 7:" in err


def test_files_that_cannot_be_imported_get_one_line(engine: Engine, db_url: str,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with engine.begin() as conn:
        add_site(conn, DOMAIN, now=NOW)
    monkeypatch.setenv("DATABASE_URL", db_url)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), other)
    assert main(["import", "events", str(other), "--site", DOMAIN]) == 2
    assert "missing columns uid" in capsys.readouterr().err
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    assert main(["import", "events", str(junk), "--site", DOMAIN]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err
    assert main(["import", "events", str(tmp_path / "none.parquet"), "--site", DOMAIN]) == 2
    assert main(["import", "events", str(other), "--site", "nosuch.test"]) == 2
    assert "no site" in capsys.readouterr().err
