"""`beacon import logs` end to end on SQLite and PostgreSQL: enrichment like live hits,
visits and daily visitors, idempotence, resume after kill -9 and Ctrl-C, delete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from beacon_cli.main import main
from shared.core import schema
from shared.sites import add_site
from shared.storage import make_engine
from tests.imports.helpers import CHROME, FIREFOX, GOOGLEBOT, GPTBOT, IPHONE, line, write

T0 = datetime(2026, 11, 3, 10, 0, 0)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"DATABASE_URL": db_url, "BEACON_DATA_DIR": str(tmp_path / "data")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        add_site(conn, "example.com", timezone="Europe/Berlin", now=T0)
        add_site(conn, "example.org", now=T0)
    engine.dispose()
    return env


def _rows(db_url: str, query: sa.Select) -> list[sa.Row]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    engine.dispose()
    return rows


def _events(db_url: str, domain: str = "example.com") -> list[sa.Row]:
    e, s = schema.events, schema.sites
    return _rows(db_url, sa.select(e).join(s, s.c.id == e.c.site_id)
                 .where(s.c.domain == domain).order_by(e.c.ts))


SAMPLE = [
    line("8.8.8.8", T0, "/blog/?utm_source=newsletter&utm_medium=email", CHROME,
         referrer="https://www.google.com/"),
    line("8.8.8.8", T0 + timedelta(seconds=1), "/static/app.css", CHROME),
    line("8.8.8.8", T0 + timedelta(minutes=5), "/pricing", CHROME,
         referrer="https://example.com/blog/"),
    line("66.249.66.1", T0 + timedelta(minutes=6), "/pricing", GOOGLEBOT),
    line("20.15.240.64", T0 + timedelta(minutes=7), "/", GPTBOT),
    "this is not a log line",
    line("1.1.1.1", T0 + timedelta(minutes=8), "/", FIREFOX, method="HEAD"),
    line("1.1.1.1", T0 + timedelta(minutes=8), "/old", FIREFOX, status=301),
    line("1.1.1.1", T0 + timedelta(minutes=8), "/new", FIREFOX),
    line("1.1.1.1", T0 + timedelta(minutes=9), "/missing", FIREFOX, status=404),
    line("1.1.1.1", T0 + timedelta(minutes=9), "/api/cart", FIREFOX),
    "",
]


def test_import_enriches_like_live_hits(cli_env: dict[str, str], db_url: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "access.log", SAMPLE)
    assert main(["import", "logs", str(log), "--site", "example.com", "--quiet"]) == 0
    out = capsys.readouterr().out
    events = _events(db_url)
    assert [e.pathname for e in events] == ["/blog", "/pricing", "/new"]
    first = events[0]
    assert (first.referrer_source, first.channel, first.utm_source, first.utm_medium) == \
        ("Newsletter", "Email", "newsletter", "email")
    assert (first.country, first.browser, first.os, first.device) == \
        ("US", "Chrome", "Windows", "desktop")
    assert events[1].channel == "Direct"           # from its own site: not a referral
    assert events[0].session_id == events[1].session_id != events[2].session_id
    assert events[0].visitor_id == events[1].visitor_id != events[2].visitor_id
    bots = _rows(db_url, sa.select(schema.bot_counts.c.category, schema.bot_counts.c.family,
                                   schema.bot_counts.c.count))
    assert sorted(tuple(b) for b in bots) == [("ai_crawler", "GPTBot", 1),
                                              ("search_crawler", "Googlebot", 1)]
    for reason, n in [("bot", 2), ("not_a_page", 1), ("unparsable", 1), ("not_get", 1),
                      ("redirect", 1), ("error_status", 1), ("excluded_path", 1),
                      ("empty_line", 1)]:
        assert f"{reason} " in out and f" {n}\n" in out.split(f"{reason} ", 1)[1][:40]
    assert "access.log:6: unparsable: 'this is not a log line'" in out
    assert "12 lines, 3 page views stored, 2 visitors" in out
    assert _rows(db_url, sa.select(schema.import_salts)) == []      # thrown away
    record = _rows(db_url, sa.select(schema.imports))[0]
    assert (record.status, record.pageviews, record.visitors) == ("done", 3, 2)
    dirty = _rows(db_url, sa.select(schema.dirty_days.c.day))
    assert [d.day for d in dirty] == [T0.date()]


def test_same_file_twice_adds_nothing_and_a_grown_file_adds_its_new_lines(
        cli_env: dict[str, str], db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "access.log", SAMPLE)
    assert main(["import", "logs", str(log), "--site", "example.com", "--quiet"]) == 0
    assert main(["import", "logs", str(log), "--site", "example.com", "--quiet"]) == 0
    assert "imported already" in capsys.readouterr().out
    assert len(_events(db_url)) == 3
    write(log, [*SAMPLE, line("9.9.9.9", T0 + timedelta(hours=1), "/later", IPHONE)])
    assert main(["import", "logs", str(log), "--site", "example.com", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert [e.pathname for e in _events(db_url)] == ["/blog", "/pricing", "/new", "/later"]
    assert "1 page views stored" in out and "3 page views were stored before" in out
    bots = _rows(db_url, sa.select(sa.func.sum(schema.bot_counts.c.count)))
    assert bots[0][0] == 2                           # the bots of the old lines: not again


def test_visits_and_daily_visitors_follow_the_live_rules(
        cli_env: dict[str, str], db_url: str, tmp_path: Path) -> None:
    night = datetime(2026, 11, 3, 23, 50)
    log = write(tmp_path / "access.log", [
        line("8.8.8.8", T0, "/a", CHROME),
        line("8.8.8.8", T0 + timedelta(minutes=25), "/b", CHROME),
        line("8.8.8.8", T0 + timedelta(minutes=60), "/c", CHROME),     # 35 min later
        line("8.8.8.8", night, "/d", CHROME),
        line("8.8.8.8", night + timedelta(minutes=20), "/e", CHROME),  # after midnight
        line("8.8.8.8", night + timedelta(hours=10), "/f", CHROME),
        line("8.8.4.4", T0, "/z", CHROME),
    ])
    assert main(["import", "logs", str(log), "--site", "example.org", "--quiet"]) == 0
    events = {e.pathname: e for e in _events(db_url, "example.org") if e.visitor_id}
    sessions = {p: events[p].session_id for p in ["/a", "/b", "/c", "/d", "/e", "/f"]}
    assert sessions["/a"] == sessions["/b"] != sessions["/c"]
    assert sessions["/d"] == sessions["/e"] != sessions["/f"]     # a visit across midnight
    assert events["/f"].visitor_id != events["/a"].visitor_id     # a new day, a new salt
    record = _rows(db_url, sa.select(schema.imports))[0]
    # Day one: two visitors; day two: the visit that crossed midnight keeps its id (as
    # live hits do), and the morning's page view has the new day's id.
    assert (record.pageviews, record.visitors) == (7, 4)


def _import_process(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "beacon_cli.main", "import", "logs", str(log), "--site",
         "example.com", "--quiet", "--checkpoint-lines", "400", *extra],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A test run started in the background inherits an ignored SIGINT: Ctrl-C is
        # what a person at a terminal sends, so the child gets the default back.
        preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_position(db_url: str, beyond: int, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        rows = _rows(db_url, sa.select(schema.imports.c.position))
        line_no = int((rows[0].position or {}).get("line", 0)) if rows else 0
        if line_no > beyond:
            return line_no
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the import made no progress")


def _big_log(path: Path, n: int) -> Path:
    agents = [CHROME, FIREFOX, IPHONE, GOOGLEBOT]
    lines = [line(f"8.8.{i % 50}.{i % 7 + 1}", T0 + timedelta(seconds=7 * i),
                  f"/p{i % 40}" if i % 3 else "/s.css", agents[i % 4]) for i in range(n)]
    return write(path, lines)


@pytest.mark.timeout(600)
def test_ctrl_c_and_kill_9_then_resume_never_double_count(
        cli_env: dict[str, str], db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = _big_log(tmp_path / "big.log", 36_000)
    proc = _import_process(cli_env, log)
    _wait_for_position(db_url, 1_000, proc)
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "--resume" in out
    refused = _import_process(cli_env, log)
    _out, err = refused.communicate(timeout=120)
    assert refused.returncode == 2 and "--resume" in err and "stopped before the end" in err
    proc = _import_process(cli_env, log, "--resume")
    stopped_at = _wait_for_position(db_url, 6_000, proc)
    # A second run while the first one runs (in this process: no start-up time, so the
    # first is surely still reading) is refused.
    assert main(["import", "logs", str(log), "--site", "example.com", "--quiet",
                 "--resume"]) == 2
    assert f"running in process {proc.pid}" in capsys.readouterr().err
    proc.kill()                                   # SIGKILL: no cleanup of any kind
    proc.wait()
    assert stopped_at < 36_000
    done = _import_process(cli_env, log, "--resume")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert "(resumed)" in out
    # The same log imported in one go into another site: the same events, visits, visitors.
    assert main(["import", "logs", str(log), "--site", "example.org", "--quiet"]) == 0
    resumed, whole = _events(db_url, "example.com"), _events(db_url, "example.org")
    assert len(resumed) == len(whole) == 18_000
    assert Counter(e.pathname for e in resumed) == Counter(e.pathname for e in whole)
    assert len({e.session_id for e in resumed}) == len({e.session_id for e in whole})
    records = {r.site_id: r for r in _rows(db_url, sa.select(schema.imports))}
    assert len({(r.pageviews, r.visitors) for r in records.values()}) == 1
    bots: Counter[int] = Counter()
    for r in _rows(db_url, sa.select(schema.bot_counts)):
        bots[r.site_id] += r.count
    assert list(bots.values()) == [6_000, 6_000]     # every 4th line a crawler, 2/3 pages


def test_delete_import_takes_back_everything(cli_env: dict[str, str], db_url: str,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "access.log", SAMPLE)
    assert main(["import", "logs", str(log), "--site", "example.com", "--quiet"]) == 0
    assert main(["import", "list", "--site", "example.com", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"pageviews": 3' in listed and '"from": "2026-11-03"' in listed
    record = _rows(db_url, sa.select(schema.imports))[0]
    assert main(["import", "delete", str(record.id)]) == 0
    assert "3 events removed" in capsys.readouterr().out
    assert _events(db_url) == []
    for table in (schema.bot_counts, schema.imports, schema.import_events,
                  schema.import_bot_counts):
        assert _rows(db_url, sa.select(table)) == [], table.name
    assert main(["import", "delete", str(record.id)]) == 2
    assert "no import" in capsys.readouterr().err
    audit = [(r.action, r.source) for r in _rows(db_url, sa.select(schema.audit_log)
                                                  .order_by(schema.audit_log.c.id))]
    assert audit == [("import.logs", "cli"), ("import.delete", "cli")]


def test_bad_input_gets_a_clear_error(cli_env: dict[str, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "logs", str(tmp_path / "none.log"), "--site", "example.com"]) == 2
    assert "no such file" in capsys.readouterr().err
    text = write(tmp_path / "notes.txt", ["hello", "world"])
    assert main(["import", "logs", str(text), "--site", "example.com"]) == 2
    assert "no line is in a known access-log format" in capsys.readouterr().err
    log = write(tmp_path / "access.log", SAMPLE)
    assert main(["import", "logs", str(log), "--site", "nope.example"]) == 2
    assert "no site" in capsys.readouterr().err
    assert main(["import", "logs", str(log), "--site", "example.com",
                 "--statuses", "abc"]) == 2
    assert "status 'abc'" in capsys.readouterr().err
