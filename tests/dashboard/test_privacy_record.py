"""The record of processing follows the live configuration."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from shared.core import schema
from shared.core.settings import Settings
from shared.dataout.privacy_record import as_text, build_record
from shared.sites import add_site, update_site

NOW = datetime(2026, 3, 10, 12, 0, 0)


def test_record_reflects_site_and_salts(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        site = add_site(conn, "a.example", timezone="Europe/Berlin")
        site = update_site(conn, "a.example", retention_months=13, honor_dnt=True,
                           ignored_ips=["10.0.0.0/8", "192.0.2.1"])
        conn.execute(schema.salts.insert().values(day=NOW.date(), salt=b"x" * 32,
                                                  created_at=NOW - timedelta(hours=5)))
        sections = build_record(conn, settings, [site], NOW)
    text = as_text(sections, NOW)
    by_title = {s.title: dict(s.rows) for s in sections}
    assert by_title["Site a.example"]["Raw events"] == "deleted after 13 months"
    assert by_title["Site a.example"]["Daily aggregates"] == "kept until the site is deleted"
    assert by_title["Site a.example"]["Honour Do Not Track / Global Privacy Control"] == "on"
    assert by_title["Site a.example"]["Own traffic excluded (IP ranges)"] == "2"
    assert "1 stored, oldest created 5 h ago" in by_title["Pseudonymisation"][
        "Salt rotation and deletion"]
    assert "IP address" in by_title["Not collected"]
    backend = engine.dialect.name
    assert ("SQLite" if backend == "sqlite" else "PostgreSQL") in by_title["Storage"]["Where"]
    assert "@" not in by_title["Storage"]["Where"]   # never credentials
    assert text.startswith("Record of processing") and "Europe/Berlin" in text


def test_record_describes_the_spool_every_event_passes_through(engine: Engine,
                                                               settings: Settings) -> None:
    from beacon_app import spool
    from shared.core import spool_policy

    with engine.begin() as conn:
        sections = build_record(conn, settings, [], NOW)
    text = dict({s.title: dict(s.rows) for s in sections}["Storage"])["Local write-ahead spool"]
    assert text.startswith("every accepted event is first written to a spool file")
    assert "only while" not in text
    # The numbers quoted are the ones the spool runs with.
    assert spool.SEGMENT_MAX_AGE == spool_policy.SEGMENT_MAX_AGE_SECONDS
    assert spool.SEGMENT_MAX_BYTES == spool_policy.SEGMENT_MAX_BYTES
    assert f"{spool_policy.SEGMENT_MAX_AGE_SECONDS:.0f} s" in text
    assert f"{spool_policy.SEGMENT_MAX_BYTES // 1048576} MiB" in text
    assert f"{settings.flush_interval_ms} ms" in text
    assert f"{settings.spool_max_bytes / 1e9:.1f} GB" in text


def test_record_says_how_long_dashboard_exports_are_kept(engine: Engine,
                                                         settings: Settings) -> None:
    from dataclasses import replace

    with engine.begin() as conn:
        sections = build_record(conn, replace(settings, export_keep_hours=6), [], NOW)
    storage = dict({s.title: dict(s.rows) for s in sections}["Storage"])
    assert storage["Raw-event exports from the dashboard"].endswith("deleted after 6 hours")
