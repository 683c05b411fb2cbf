"""The daily salts of the visitor hash, as the beacon's request path needs them: in memory.

Yesterday's to the day after tomorrow's salts are loaded (and today's and tomorrow's, in
UTC and every site's time zone, created when missing) at start-up and then every minute
in the background; the copy is also kept in BEACON_DATA_DIR, so a beacon restarted
while the database is away hashes with the same salts, and a midnight during an outage
changes nothing (tomorrow's salt is already here).

If a process still has no salt for a day - the database was away since before the
worker or any beacon could make it, and no copy is on disk - it makes a provisional salt
for that day, shared by every beacon process of this machine through a file in
BEACON_DATA_DIR, and offers it to the database when that returns. Hits are neither
refused nor dropped for it: each is counted in `beacon_events_provisional_salt_total`.
The only cost: if another machine's beacon made a different salt for that day first,
a visitor seen by both salts counts as two visitors that day.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.core.last_good import LastGood, write_private_file
from shared.ingest.salts import create_salts, read_salt_days, salt_days
from shared.storage import write_transaction

log = logging.getLogger(__name__)

Salts = dict[date, bytes]
REFRESH_SECONDS = 60.0


def _encode(salts: Salts) -> dict[str, str]:
    return {day.isoformat(): salt.hex() for day, salt in salts.items()}


def _decode(data: Any) -> Salts:
    return {date.fromisoformat(day): bytes.fromhex(salt) for day, salt in data.items()}


class SaltCache:
    def __init__(self, engine: Engine, clock: Callable[[], datetime], *,
                 data_dir: Path | None = None) -> None:
        self._engine, self._clock = engine, clock
        self._provisional_file = data_dir / "salts-provisional.json" if data_dir else None
        self._provisional: Salts = {}
        self._copy: LastGood[Salts] = LastGood(
            "salts", self._load, interval=REFRESH_SECONDS,
            file=data_dir / "salts.json" if data_dir else None,
            encode=_encode, decode=lambda data: self._recent(_decode(data)),
            prune=self._recent)

    def _recent(self, salts: Salts) -> Salts:
        """Salts older than yesterday's are never used, nor kept (see shared/ingest/salts.py)."""
        yesterday = self._clock().date() - timedelta(days=1)
        return {day: salt for day, salt in salts.items() if day >= yesterday}

    def _load(self) -> Salts:
        now = self._clock()
        today = now.date()
        offered = self._read_provisional()
        with self._engine.connect() as conn:
            salts = read_salt_days(conn, today - timedelta(days=1), today + timedelta(days=2))
            zones = conn.execute(sa.select(schema.sites.c.timezone).distinct()).scalars().all()
        missing = (salt_days(now, zones) | set(offered)) - set(salts)
        if missing:
            with write_transaction(self._engine) as conn:
                create_salts(conn, now, missing, offered)
                salts = read_salt_days(conn, today - timedelta(days=1),
                                       today + timedelta(days=2))
        if offered and self._provisional_file is not None:
            # Offered and stored (or another salt won): the database has the say now.
            self._provisional_file.unlink(missing_ok=True)
        self._provisional = {}
        return self._recent(salts)

    def prepare(self) -> bool:
        """Load (and create what is missing) now: at start-up. False if the database is away."""
        return self._copy.refresh()

    def status(self) -> dict[str, Any]:
        return self._copy.status()

    def close(self) -> None:
        self._copy.close()

    def get(self, now: datetime) -> tuple[bytes, bytes | None]:
        """(today's salt, yesterday's or None), from memory."""
        salts = self._copy.get() or {}
        today = now.date()
        if today not in salts and self._copy.refresh_if_allowed():
            # Only when the day's salt was not made ahead (no worker, and this process's
            # refresh has not run since the day began): one load, then memory again.
            salts = self._copy.get() or {}
        current = salts.get(today) or self._provisional_salt(today)
        yesterday = today - timedelta(days=1)
        return current, salts.get(yesterday) or self._provisional.get(yesterday)

    def is_provisional(self, day: date) -> bool:
        salts = self._copy.get() or {}
        return day not in salts and day in self._provisional

    # --- provisional salts: one per day and machine, until the database has one ---------
    def _provisional_salt(self, day: date) -> bytes:
        salt = self._provisional.get(day)
        if salt is not None:
            return salt
        if self._provisional_file is None:
            salt = self._provisional.setdefault(day, secrets.token_bytes(32))
        else:
            salt = self._shared_provisional(day)
        log.warning("salts: no salt for %s in memory, on disk or in the database; hashing "
                    "visitors with a provisional salt until the database is back", day)
        return salt

    def _shared_provisional(self, day: date) -> bytes:
        """Read or make the machine's provisional salt for `day` under a file lock, so
        every beacon process of this machine uses the same one."""
        assert self._provisional_file is not None
        lock_path = self._provisional_file.with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            shared = self._read_provisional()
            if day not in shared:
                shared[day] = secrets.token_bytes(32)
                write_private_file(self._provisional_file,
                                   json.dumps(_encode(self._recent(shared))))
            self._provisional.update(shared)
            return shared[day]
        finally:
            os.close(fd)   # releases the lock

    def _read_provisional(self) -> Salts:
        if self._provisional_file is None:
            return dict(self._provisional)
        try:
            return self._recent(_decode(json.loads(self._provisional_file.read_text())))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("salts: ignoring an unreadable provisional salt file (%s)", exc)
            return {}
