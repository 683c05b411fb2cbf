"""Backups of the embedded SQLite database, taken and restored while it is in use.

Both directions use SQLite's online backup API (`sqlite3.Connection.backup`): it copies
page by page under SQLite's own locks, so a backup taken while the beacon writes is a
consistent snapshot, and a restore replaces the content of the live file in place -
open connections of other processes see the restored database at their next
transaction, instead of keeping a deleted file open as a file copy would leave them.
PostgreSQL has better tools than we could write (pg_dump / pg_restore); for it we only
say which commands to run.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from shared.core.processes import process_alive
from shared.storage import dialect_for

PG_HELP = ("PostgreSQL is backed up with its own tools: "
           'pg_dump --format=custom --file=beacon.dump "$DATABASE_URL"; restore with '
           'pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" beacon.dump')
REQUIRED_TABLES = {"alembic_version", "sites", "events", "salts"}


class BackupError(ValueError):
    """A backup or restore was refused; the message says why in one line."""


def sqlite_path(url: str) -> Path:
    """The database file of a SQLite URL; BackupError for PostgreSQL and memory."""
    database = dialect_for(url).database_file(url)
    if database is None:          # a database server: its own tools back it up
        raise BackupError(PG_HELP)
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def default_backup_file(data_dir: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return Path(data_dir) / "backups" / f"beacon-{stamp}.db"


def backup(database: Path, output: Path) -> int:
    """Copy the live database to `output` (must not exist); returns its size in bytes."""
    if not database.is_file():
        raise BackupError(f"no database at {database.name} (run `beacon migrate` first)")
    if output.exists():
        raise BackupError(f"{output} exists already; choose another --output")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    src = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst, pages=1024)   # steps: the beacon's writer is never blocked long
        dst.execute("PRAGMA journal_mode=DELETE")   # one self-contained file
    finally:
        dst.close()
        src.close()
    check_backup(tmp)
    os.replace(tmp, output)           # a partial file never carries the final name
    return output.stat().st_size


def check_backup(path: Path) -> None:
    """Refuse a file that is not an intact Beacon database."""
    if not path.is_file():
        raise BackupError(f"no file {path}")
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path.name} is not a SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        status = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is unreadable: {exc}") from None
    finally:
        conn.close()
    if status != "ok":
        raise BackupError(f"{path.name} failed the integrity check: {status}")
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(f"{path.name} is not a Beacon database (no {', '.join(sorted(missing))})")


_SEGMENT = re.compile(r"^(?:metrics-)?(\d+)(?:-[0-9a-f]+-\d+\.seg|\.json)$")


def live_beacons(spool_dir: str) -> list[int]:
    """Process ids of running beacons that use this spool folder (their segments and
    metrics files carry their pid)."""
    pids: set[int] = set()
    folder = Path(spool_dir)
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        match = _SEGMENT.match(path.name)
        # (this command itself is not a beacon, whatever pid a stray file names)
        if match and (pid := int(match.group(1))) != os.getpid() and process_alive(pid):
            pids.add(pid)
    return sorted(pids)


def restore(backup_file: Path, database: Path) -> int:
    """Replace the database's content with the backup's; returns the bytes copied."""
    check_backup(backup_file)
    database.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dst = sqlite3.connect(database, timeout=30)
    try:
        src.backup(dst)        # takes the destination's write lock; waits for a writer
    finally:
        dst.close()
        src.close()
    return database.stat().st_size
