"""The audit log on real databases: every change made with `beacon` appears with its
actor and source (before/after for settings), the log survives a site's removal, the CSV
export is formula-safe, and the worker prunes it after the retention days."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from beacon_cli.common import cli_actor
from beacon_cli.main import main
from shared.accounts import audit
from shared.accounts.api_keys import list_keys
from shared.core.clock import utc_now
from shared.dataout.audit_export import csv_bytes
from shared.jobs.housekeeping import prune_audit_log
from shared.sites import require_site

PASSWORD = "a long enough password"  # noqa: S105 - a test account


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_NEW_PASSWORD", PASSWORD)
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _run(*argv: str) -> None:
    assert main(list(argv)) == 0, argv


def _log(engine: Engine) -> list[audit.AuditEntry]:
    with engine.connect() as conn:
        return list(reversed(audit.entries(conn, limit=1000)))


def test_every_cli_change_is_logged_with_its_actor(engine: Engine, cli: Path) -> None:
    _run("sites", "add", "a.example", "--timezone", "Europe/Berlin")
    _run("sites", "update", "a.example", "--honor-dnt", "on", "--retention-months", "12")
    _run("sites", "token", "a.example")
    _run("users", "add", "ann@example.com", "--site", "a.example:viewer")
    _run("users", "grant", "ann@example.com", "a.example", "owner")
    _run("users", "revoke", "ann@example.com", "a.example")
    _run("users", "admin", "ann@example.com", "on")
    _run("users", "passwd", "ann@example.com")
    _run("users", "2fa", "reset", "ann@example.com")
    _run("goals", "add", "a.example", "--page", "/signup", "--name", "Signup")
    _run("goals", "remove", "a.example", "1")
    _run("funnels", "add", "a.example", "Buy", "--step", "page:/", "--step", "event:Buy")
    _run("funnels", "remove", "a.example", "1")
    _run("keys", "create", "--site", "a.example", "--name", "script")
    with engine.connect() as conn:   # ids are shared by the test run's sites
        (key,) = list_keys(conn, require_site(conn, "a.example").id)
    _run("keys", "revoke", str(key.id), "--site", "a.example")
    _run("export", "events", "--site", "a.example", "--output", str(cli / "e.csv"), "--quiet")
    _run("purge", "--site", "a.example", "--before", "2026-01-01", "--yes")
    _run("audit", "export", "--output", str(cli / "audit.csv"))
    _run("users", "remove", "ann@example.com")
    _run("sites", "remove", "a.example", "--yes")

    log = _log(engine)
    assert [e.action for e in log] == [
        "site.add", "site.update", "site.ingest_token", "user.add", "role.grant",
        "role.grant", "role.revoke", "user.admin", "user.password", "two_factor.reset",
        "goal.add", "goal.remove", "funnel.add", "funnel.remove", "api_key.create",
        "api_key.revoke", "export.events", "data.purge", "export.audit_log", "user.remove",
        "site.remove"]
    assert {e.actor for e in log} == {cli_actor()} and {e.source for e in log} == {"cli"}
    by_action = {e.action: e for e in log}
    update = by_action["site.update"]
    # Only the changed settings, before and after.
    assert update.details == {"before": {"honor_dnt": False, "retention_months": 0},
                              "after": {"honor_dnt": True, "retention_months": 12}}
    assert by_action["site.add"].details["after"]["timezone"] == "Europe/Berlin"
    assert "api_token_hash" not in json.dumps([e.details for e in log])
    grants = [e for e in log if e.action == "role.grant"]
    assert grants[1].details == {"before": {"role": "viewer"}, "after": {"role": "owner"}}
    assert by_action["user.admin"].details == {"before": {"admin": False},
                                               "after": {"admin": True}}
    assert by_action["goal.add"].details["after"]["page_path"] == "/signup"
    assert by_action["data.purge"].details["before_day"] == "2026-01-01"
    assert by_action["export.events"].details["rows"] == 0
    # The site is gone, its audit trail is not.
    site_id = by_action["site.add"].site_id
    assert site_id is not None and by_action["site.remove"].site_id == site_id
    with engine.connect() as conn:
        assert len(audit.entries(conn, audit.AuditFilter(site_id=site_id))) >= 15


def test_filters_and_cli_listing(engine: Engine, cli: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    _run("sites", "add", "a.example")
    _run("users", "add", "ann@example.com")
    audit.record(engine, actor="bob@example.com", source="dashboard", action="sign_in.success",
                 target="bob@example.com", details={"method": "password"})
    with engine.connect() as conn:
        assert [e.action for e in audit.entries(conn, audit.AuditFilter(action="site."))] == [
            "site.add"]
        assert [e.actor for e in audit.entries(conn, audit.AuditFilter(
            actor="bob@example.com"))] == ["bob@example.com"]
        tomorrow = utc_now() + timedelta(days=1)
        assert audit.entries(conn, audit.AuditFilter(since=tomorrow)) == []
    capsys.readouterr()
    _run("audit", "list", "--json", "--action", "sign_in.success")
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["actor"], r["source"]) for r in rows] == [("bob@example.com", "dashboard")]
    assert main(["audit", "list", "--action", "nonsense"]) == 2
    assert "unknown action" in capsys.readouterr().err


def test_record_refuses_unknown_names_and_stays_in_the_changes_transaction(
        engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(engine, actor="a", source="cli", action="site.explode")
    with pytest.raises(ValueError, match="audit source"):
        audit.record(engine, actor="a", source="fax", action="site.add")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        audit.record(conn, actor="a@example.com", source="api", action="site.add")
        raise RuntimeError("the change failed")
    assert _log(engine) == []   # rolled back with the change


def test_csv_export_is_formula_safe(engine: Engine) -> None:
    audit.record(engine, actor="=HYPERLINK(\"http://x\")", source="dashboard",
                 action="goal.add", target="+1 goal", after={"display_name": "@SUM(A1)"})
    text = csv_bytes(engine.connect()).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "at_utc", "actor", "source", "action", "target", "site_id",
                       "details"]
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][5] == "'+1 goal"
    assert json.loads(rows[1][7]) == {"after": {"display_name": "@SUM(A1)"}}


def test_worker_prunes_after_the_retention_days(engine: Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 6, 1, 12, 0)
    for age in (400, 100, 1):
        audit.record(engine, actor="a@example.com", source="cli", action="site.add",
                     target=f"{age} days", now=now - timedelta(days=age))
    monkeypatch.setenv("BEACON_AUDIT_RETENTION_DAYS", "365")
    assert prune_audit_log(engine, now) == 1
    monkeypatch.setenv("BEACON_AUDIT_RETENTION_DAYS", "30")
    assert prune_audit_log(engine, now) == 1
    monkeypatch.setenv("BEACON_AUDIT_RETENTION_DAYS", "0")
    assert prune_audit_log(engine, now - timedelta(days=-1000)) == 0
    assert [e.target for e in _log(engine)] == ["1 days"]


def test_migration_matches_the_schema_and_the_worker_prunes(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shared.core import schema
    from shared.jobs.housekeeping import HOUSEKEEPING_JOBS

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, schema.metadata)
    mine = ("audit_log", "recovery_codes", "totp_")
    assert not [d for d in diffs if any(name in repr(d) for name in mine)], diffs
    assert ("audit_log", prune_audit_log) in HOUSEKEEPING_JOBS


def test_backup_is_logged(sqlite_engine: Engine, sqlite_url: str, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    _run("backup", "--output", str(tmp_path / "copy.db"))
    [entry] = _log(sqlite_engine)
    assert (entry.action, entry.actor, entry.source, entry.target) == (
        "data.backup", cli_actor(), "cli", str(tmp_path / "copy.db"))
    assert entry.details["bytes"] > 0


def test_every_action_name_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "access-and-files.md").read_text()
    missing = [name for name in audit.ACTIONS if f"`{name}`" not in page]
    assert not missing, f"add these to the audit log's table in the docs: {missing}"
