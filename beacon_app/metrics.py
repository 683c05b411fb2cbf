"""Counters for /metrics and the per-site drop counts.

Each beacon process counts in memory. Drops are also added to the `drop_counts`
table (per site, UTC day, reason) by the writer thread, so they survive restarts and
every process's drops are visible in one place. For /metrics, each process writes its
counters to `metrics-<pid>.json` in the spool folder, and any process sums them, so a
scrape of any worker shows the whole server.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from shared.core import schema
from shared.core.bot_categories import BotLabel
from shared.core.records import DropReason
from shared.storage import upsert_add, write_transaction

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
DROP_REASONS = tuple(reason.value for reason in DropReason)


class Metrics:
    def __init__(self, directory: str) -> None:
        self.dir = Path(directory)
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()
        self.flush_buckets: Counter[str] = Counter()
        self.flush_sum = 0.0
        self.flush_count = 0
        self._unsaved_drops: Counter[tuple[int, date, str]] = Counter()
        self._unsaved_bots: Counter[tuple[int, date, str, str]] = Counter()
        self._saved_at = 0.0
        self._drop_write_lock = threading.Lock()   # one drop write at a time

    def inc(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[name] += amount

    def drop(self, site_id: int, reason: DropReason, day: date,
             bot: BotLabel | None = None) -> None:
        """Count a drop; a bot's (`bot` given, a site matched) also per category and family."""
        with self._lock:
            self.drops[reason.value] += 1
            self._unsaved_drops[(site_id, day, reason.value)] += 1
            if bot is not None and site_id:
                self._unsaved_bots[(site_id, day, bot.category.value, bot.family)] += 1

    def observe_flush(self, seconds: float, events: int) -> None:
        with self._lock:
            self.counters["written"] += events
            self.flush_sum += seconds
            self.flush_count += 1
            for bound in BUCKETS:
                if seconds <= bound:
                    self.flush_buckets[str(bound)] += 1
        self._save_snapshot()

    def flush_drops(self, engine: Engine) -> None:
        """Add the drops counted since the last call to `drop_counts` (writer thread)."""
        with self._drop_write_lock:
            self._write_drops(engine)
        self._save_snapshot()

    def _write_drops(self, engine: Engine) -> None:
        with self._lock:
            pending, self._unsaved_drops = self._unsaved_drops, Counter()
            bots, self._unsaved_bots = self._unsaved_bots, Counter()
        if not pending and not bots:
            return
        drop_rows = [{"site_id": s, "day": d, "reason": r, "count": n}
                     for (s, d, r), n in pending.items()]
        bot_rows = [{"site_id": s, "day": d, "category": c, "family": f, "count": n}
                    for (s, d, c, f), n in bots.items()]
        try:
            with write_transaction(engine) as conn:
                if drop_rows:
                    upsert_add(conn, schema.drop_counts, drop_rows,
                               ["site_id", "day", "reason"], "count")
                if bot_rows:
                    upsert_add(conn, schema.bot_counts, bot_rows,
                               ["site_id", "day", "category", "family"], "count")
        except Exception:
            with self._lock:   # counted again next time: nothing is lost
                self._unsaved_drops.update(pending)
                self._unsaved_bots.update(bots)
            raise

    # --- cross-process view ------------------------------------------------------------
    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {"counters": dict(self.counters), "drops": dict(self.drops),
                    "flush_buckets": dict(self.flush_buckets), "flush_sum": self.flush_sum,
                    "flush_count": self.flush_count}

    def _save_snapshot(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._saved_at < 1.0:
            return
        self._saved_at = now
        with contextlib.suppress(OSError):
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".metrics-{os.getpid()}.tmp"
            tmp.write_text(json.dumps(self.snapshot()))
            os.replace(tmp, self.dir / f"metrics-{os.getpid()}.json")

    def combined(self) -> Totals:
        """Every process's counters summed (this process's live values included)."""
        self._save_snapshot(force=True)
        total = Totals()
        for path in self.dir.glob("metrics-*.json"):
            try:
                snap = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            total.counters.update(snap.get("counters", {}))
            total.drops.update(snap.get("drops", {}))
            total.flush_buckets.update(snap.get("flush_buckets", {}))
            total.flush_sum += float(snap.get("flush_sum", 0.0))
            total.flush_count += int(snap.get("flush_count", 0))
        return total


@dataclass
class Totals:
    counters: Counter[str] = field(default_factory=Counter)
    drops: Counter[str] = field(default_factory=Counter)
    flush_buckets: Counter[str] = field(default_factory=Counter)
    flush_sum: float = 0.0
    flush_count: int = 0


def render_prometheus(total: Totals, spool_bytes: int, backlog: int,
                      lookups: dict[str, dict[str, Any]] | None = None) -> str:
    counters, drops, buckets = total.counters, total.drops, total.flush_buckets
    out = [
        "# HELP beacon_events_accepted_total Events answered 2xx and spooled.",
        "# TYPE beacon_events_accepted_total counter",
        f"beacon_events_accepted_total {counters['accepted']}",
        "# HELP beacon_events_written_total Events written to the database.",
        "# TYPE beacon_events_written_total counter",
        f"beacon_events_written_total {counters['written']}",
        "# HELP beacon_events_dropped_total Events not stored, by reason.",
        "# TYPE beacon_events_dropped_total counter",
    ]
    for reason in DROP_REASONS:
        out.append(f'beacon_events_dropped_total{{reason="{reason}"}} {drops[reason]}')
    for name, help_text in (("write_errors", "Failed database writes (retried)."),
                            ("spool_errors", "Events the spool could not take (refused)."),
                            ("events_provisional_salt", "Events kept with a visitor id made from "
                                                 "a provisional salt."),
                            ("payload_errors", "Requests refused with 4xx.")):
        out += [f"# HELP beacon_{name}_total {help_text}", f"# TYPE beacon_{name}_total counter",
                f"beacon_{name}_total {counters[name]}"]
    out += ["# HELP beacon_spool_bytes Bytes in this process's spool not yet written.",
            "# TYPE beacon_spool_bytes gauge", f"beacon_spool_bytes {spool_bytes}",
            "# HELP beacon_write_backlog Events of this process waiting for the database.",
            "# TYPE beacon_write_backlog gauge", f"beacon_write_backlog {backlog}",
            *_lookup_lines(lookups or {}),
            "# HELP beacon_flush_seconds Time of one batch write.",
            "# TYPE beacon_flush_seconds histogram"]
    for bound in BUCKETS:
        out.append(f'beacon_flush_seconds_bucket{{le="{bound}"}} {buckets[str(bound)]}')
    out += [f'beacon_flush_seconds_bucket{{le="+Inf"}} {total.flush_count}',
            f"beacon_flush_seconds_sum {total.flush_sum}",
            f"beacon_flush_seconds_count {total.flush_count}"]
    return "\n".join(out) + "\n"


def _lookup_lines(lookups: dict[str, dict[str, Any]]) -> list[str]:
    """This process's in-memory copies of database data (sites, salts): fresh or not."""
    out = ["# HELP beacon_lookup_fresh 1 while the copy refreshes from the database, 0 while "
           "the last good copy is served (database unavailable).",
           "# TYPE beacon_lookup_fresh gauge"]
    out += [f'beacon_lookup_fresh{{lookup="{name}"}} {int(s["ok"])}'
            for name, s in lookups.items()]
    out += ["# HELP beacon_lookup_age_seconds Age of the copy served (-1: none).",
            "# TYPE beacon_lookup_age_seconds gauge"]
    out += [f'beacon_lookup_age_seconds{{lookup="{name}"}} '
            f'{-1 if s["age_seconds"] is None else s["age_seconds"]}'
            for name, s in lookups.items()]
    out += ["# HELP beacon_lookup_refresh_failures_total Failed refreshes from the database.",
            "# TYPE beacon_lookup_refresh_failures_total counter"]
    out += [f'beacon_lookup_refresh_failures_total{{lookup="{name}"}} {s["refresh_failures"]}'
            for name, s in lookups.items()]
    return out
