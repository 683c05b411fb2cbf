"""`beacon export` and `beacon keys`: formats round-trip, CSV is formula-safe, errors are
one line, keys are shown once and listed by prefix."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.core import schema
from shared.core.records import Event
from shared.dataout.export import neutralise
from shared.demo.run import DemoSpec, run_demo
from shared.ingest.events import write_events
from shared.sites import require_site

E = schema.events
HOSTILE = {"pathname": "=HYPERLINK(\"http://evil\")", "referrer": "+cmd|' /C calc'!A0",
           "utm_campaign": "-2+3", "utm_content": "@SUM(A1)", "city": "\tTab", "region": "\rCR",
           # Leading whitespace (skipped by spreadsheets on import) and full-width signs.
           "utm_term": " =1+1", "utm_medium": "\n=2+2", "utm_source": "\u3000=3+3",
           "browser": "\uff1dHYPERLINK(\"http://evil\")", "os": "\uff0b1", "device": "\uff0d1",
           "language": "\uff20SUM(A1)"}
FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@pytest.fixture
def cli_db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Engine:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    run_demo(engine, DemoSpec("demo.test", days=5, events=1500, seed=5),
             now=datetime.utcnow(), rebuild=False)  # noqa: DTZ003 - the CLI uses the real clock
    with engine.begin() as conn:
        site = require_site(conn, "demo.test")
        event = Event(site_id=site.id, ts=datetime.utcnow(), name="pageview",  # noqa: DTZ003
                      uid=42, visitor_id=7, session_id=9, props={"note": "=1+1"}, **HOSTILE)
        write_events(conn, [event.to_row()])
    return engine


def _export(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    assert main(["export", *args, "--site", "demo.test", "--output", str(out), "--quiet"]) == 0
    return out


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(E)) or 0)


@pytest.mark.parametrize("value,expected", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"),
                                            ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
                                            (" =1+1", "' =1+1"), ("\n=1+1", "'\n=1+1"),
                                            ("\uff1d1+1", "'\uff1d1+1"), ("\uff0b1", "'\uff0b1"),
                                            ("\uff0d1", "'\uff0d1"), ("\uff20x", "'\uff20x"),
                                            ("\u3000=1", "'\u3000=1"), ("\xa0=1", "'\xa0=1"),
                                            ("/page", "/page"), ("a =1", "a =1"), ("", "")])
def test_neutralise(value: str, expected: str) -> None:
    assert neutralise(value) == expected


def test_csv_neutralises_formulas(cli_db: Engine, tmp_path: Path) -> None:
    out = _export(tmp_path, "events", "--period", "7d", "--format", "csv", "--chunk-size", "400")
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert len(rows) == _count(cli_db) == 1501
    evil = next(r for r in rows if r["uid"] == "42")
    for column, value in HOSTILE.items():
        assert evil[column] == "'" + value
    assert json.loads(evil["props"]) == {"note": "=1+1"}   # starts with "{": inert
    assert all(not (v.startswith(FORMULA_START) or v[:1].isspace())
               for r in rows for v in r.values())


def test_parquet_round_trip(cli_db: Engine, tmp_path: Path) -> None:
    out = _export(tmp_path, "events", "--period", "7d", "--format", "parquet",
                  "--chunk-size", "300")
    table = pq.read_table(out)
    assert table.num_rows == _count(cli_db)
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("engagement_ms").type) == "int64"
    with cli_db.connect() as conn:
        uids = sorted(conn.scalars(sa.select(E.c.uid)))
    assert sorted(table.column("uid").to_pylist()) == uids
    evil = [r for r in table.to_pylist() if r["uid"] == 42][0]
    assert evil["pathname"] == HOSTILE["pathname"] and json.loads(evil["props"]) == {"note": "=1+1"}


def test_ndjson_round_trip_and_filters(cli_db: Engine, tmp_path: Path) -> None:
    out = _export(tmp_path, "events", "--period", "7d", "--format", "ndjson",
                  "--filter", "device is mobile", "--filter", "event is pageview")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines and {r["device"] for r in lines} == {"mobile"}
    assert {r["name"] for r in lines} == {"pageview"} and isinstance(lines[0]["props"], dict)
    with cli_db.connect() as conn:
        n = conn.scalar(sa.select(sa.func.count()).select_from(E).where(
            E.c.device == "mobile", E.c.name == "pageview"))
    assert len(lines) == n


def test_report_export(cli_db: Engine, tmp_path: Path) -> None:
    out = _export(tmp_path, "report", "--period", "7d", "--dimension", "source",
                  "--format", "csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert rows[0].keys() >= {"source", "visitors", "pageviews", "bounce_rate"}
    assert sum(int(r["visits"]) for r in rows) > 0
    # The same output file again: replacing it needs --force.
    out = _export(tmp_path, "report", "--period", "7d", "--interval", "day", "--format", "ndjson",
                  "--force")
    assert len(out.read_text().splitlines()) == 7


@pytest.mark.parametrize("args,needle", [
    (["--filter", "country iss DE"], "unknown filter operator 'iss'"),
    (["--period", "7x"], "unknown period '7x'"),
    (["--dimension", "shoe"], "unknown dimension 'shoe'"),
    (["--site", "nope.test"], "no site 'nope.test'"),
], ids=["filter", "period", "dimension", "site"])
def test_errors_are_one_line(cli_db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             args: list[str], needle: str) -> None:
    out = tmp_path / "never"
    code = main(["export", "report", "--site", "demo.test", "--output", str(out), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_keys_cli(cli_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--site", "demo.test", "--name", "ci"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["keys", "list", "--site", "demo.test", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [k["status"] for k in listed] == ["active"] and token.startswith(listed[0]["prefix"])
    assert token not in json.dumps(listed)
    assert main(["keys", "revoke", listed[0]["prefix"], "--site", "demo.test"]) == 0
    assert main(["keys", "list", "--site", "demo.test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["status"] == "revoked"
    assert main(["keys", "revoke", "999", "--site", "demo.test"]) == 2
