"""Imports stage: `beacon import logs` - server access logs -> page views, stored in
resumable batches.

Each page-view line becomes the beacon's own `RawHit` and goes through the beacon's
enrichment (`Enrich`, handed in by the app that runs the import: bots and AI agents,
referrer source and channel, UTM, geo, browser/OS/device, the visitor hash). Every batch
stores its events, their link to the import, the bot counts and the position reached in
ONE transaction, so a kill at any moment loses nothing and `--resume` double counts
nothing. Event uids are derived from the line's bytes and number, so a line stored once
(by this import, or by an earlier one of the same or a grown file) is never stored again.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from shared.core.clock import local_day, utc_now
from shared.core.ids import stable_id
from shared.core.interrupts import StopOnInterrupt
from shared.core.processes import process_alive
from shared.core.records import EVENT_COLUMNS, Drop, Event, RawHit
from shared.imports import records
from shared.imports.log_formats import FORMATS, BadLine, LogLine, detect_format, parser_for
from shared.imports.log_rules import PageViewRules, Reason
from shared.imports.records import Checkpoint, ImportRecord, ImportRefused
from shared.imports.sources import LineReader, SourceFile, fingerprint_of
from shared.imports.visits import ImportVisits, Salts
from shared.rollups.mark import mark_dirty_days
from shared.sites import Site
from shared.storage import dialect_for, write_transaction

KIND = "logs"
BAD_EXAMPLES = 5          # bad lines shown with their numbers
MAX_EXAMPLE = 160


class Enrich(Protocol):
    """The live hits' enrichment for one site: RawHit + the day's salts -> Event | Drop."""

    def __call__(self, hit: RawHit, salts: Salts) -> Event | Drop: ...


class Progress(Protocol):
    def update(self, n: int) -> None: ...


@dataclass(frozen=True)
class LogImportOptions:
    fmt: str = "auto"
    rules: PageViewRules = field(default_factory=PageViewRules)
    batch_events: int = 5_000        # a checkpoint after this many page views ...
    batch_lines: int = 200_000       # ... or this many lines, whichever comes first


@dataclass
class LogImportResult:
    record: ImportRecord
    already_done: bool = False
    resumed: bool = False
    interrupted: bool = False


class _Run:
    """The counters and the batch of one import run."""

    def __init__(self, record: ImportRecord, site: Site, visits: ImportVisits) -> None:
        counts = record.counts or {}
        self.record, self.site, self.visits = record, site, visits
        self.zone = ZoneInfo(site.timezone or "UTC")
        self.lines = int(counts.get("lines", 0))
        self.read_pageviews = int(counts.get("pageview_lines", 0))
        self.skipped: Counter[str] = Counter(counts.get("skipped", {}))
        self.bots: Counter[str] = Counter(counts.get("bots", {}))
        self.examples: list[str] = list(counts.get("bad_examples", []))
        self.first_ts, self.last_ts = record.first_ts, record.last_ts
        self.events: list[Event] = []
        self.batch_bots: list[tuple[int, date, str, str]] = []   # uid, day, category, family
        self.batch_lines = 0

    def counts(self) -> dict[str, Any]:
        return {"lines": self.lines, "pageview_lines": self.read_pageviews,
                "skipped": dict(self.skipped), "bots": dict(self.bots),
                "bad_examples": self.examples}

    def bad(self, reason: str, where: str, line: str) -> None:
        self.skipped[reason] += 1
        if len(self.examples) < BAD_EXAMPLES:
            self.examples.append(f"{where}: {reason}: {line[:MAX_EXAMPLE]!r}")

    def seen(self, ts: datetime) -> None:
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts


def open_files(paths: Sequence[str], fmt: str) -> tuple[list[SourceFile], str]:
    """The files in time order (by their first readable line) and the format they are in."""
    if fmt not in FORMATS:
        raise ImportRefused(f"unknown log format {fmt!r}; one of: {', '.join(FORMATS)}")
    if not paths:
        raise ImportRefused("no log file given")
    files = [SourceFile.of(p) for p in paths]
    firsts: dict[str, datetime] = {}
    for source in files:
        with LineReader(source.path) as reader:
            sample = [line for _, line in zip(range(200), reader, strict=False)]
        detected = detect_format(sample) if fmt == "auto" else fmt
        if detected is None:
            raise ImportRefused(f"{source.path}: no line is in a known access-log format "
                                f"({', '.join(FORMATS[1:])}); name it with --format")
        if fmt == "auto" and detected not in (fmt, "auto"):
            fmt = detected
        firsts[source.path] = _first_time(sample, fmt)
    return sorted(files, key=lambda f: firsts[f.path]), fmt


def _first_time(sample: list[str], fmt: str) -> datetime:
    parse = parser_for(fmt)
    for line in sample:
        try:
            return parse(line).ts
        except BadLine:
            continue
    return datetime.max


def start_or_resume(engine: Engine, site: Site, files: list[SourceFile], fmt: str,
                    rules: PageViewRules, resume: bool,
                    now: datetime) -> tuple[ImportRecord, bool, bool]:
    """(the import to run, already done?, resumed?); ImportRefused for an interrupted
    import without --resume."""
    fingerprint = fingerprint_of(files)
    with write_transaction(engine) as conn:
        found = records.find_import(conn, site.id, KIND, fingerprint)
        if found is not None and found.status == "done":
            return found, True, False
        if found is not None and found.status in ("running", "failed"):
            running = _running_elsewhere(found)
            if running:
                raise ImportRefused(f"import #{found.id} of these files is running in "
                                    f"process {running} ({_where(found)}): wait for it, "
                                    "or stop it and run again with --resume")
            if not resume:
                raise ImportRefused(
                    f"import #{found.id} of these files stopped before the end "
                    f"({_where(found)}); run again with --resume to continue it, or delete "
                    f"it with `beacon import delete {found.id}`")
            return records.claim_import(conn, found, _runner(), now), False, True
        label = ", ".join(f.name for f in files)
        options = {"format": fmt, "rules": rules.describe(),
                   "files": [{"name": f.name, "size": f.size} for f in files]}
        record = records.create_import(conn, site.id, KIND, fingerprint, label, options, now)
        return records.claim_import(conn, record, _runner(), now), False, False


def _runner() -> dict[str, object]:
    """Who runs an import: a second process of the same machine must not run it too."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _running_elsewhere(record: ImportRecord) -> int | None:
    runner = (record.position or {}).get("runner") or {}
    pid = int(runner.get("pid") or 0)
    if runner.get("host") == socket.gethostname() and pid and pid != os.getpid() \
            and process_alive(pid):
        return pid
    return None


def _where(record: ImportRecord) -> str:
    pos = record.position or {}
    return f"file {int(pos.get('file', 0)) + 1}, line {int(pos.get('line', 0))}"


def run_log_import(engine: Engine, site: Site, paths: Sequence[str], enrich: Enrich,
                   options: LogImportOptions, *, resume: bool = False,
                   clock: Callable[[], datetime] = utc_now,
                   progress: Callable[[int], Progress] | None = None) -> LogImportResult:
    """Import access logs into `site`; see the module docstring."""
    files, fmt = open_files(paths, options.fmt)
    record, done, resumed = start_or_resume(engine, site, files, fmt, options.rules, resume,
                                            clock())
    if done:
        return LogImportResult(record, already_done=True)
    if resumed:   # the rules and format it started with, whatever this command says
        fmt = str(record.options.get("format", fmt))
        options = LogImportOptions(fmt, PageViewRules.from_description(
            record.options.get("rules", {})), options.batch_events, options.batch_lines)
    with engine.connect() as conn:
        salts = records.import_salts(conn, record.id)
    run = _Run(record, site, ImportVisits(salts, record.state))
    bar = progress(sum(f.size for f in files)) if progress else None
    position = {"file": 0, "line": 0, **(record.position or {})}
    try:
        with StopOnInterrupt() as stop:
            for index, source in enumerate(files):
                if index < int(position.get("file", 0)):
                    if bar:
                        bar.update(source.size)
                    continue
                skip = int(position.get("line", 0)) \
                    if index == int(position.get("file", 0)) else 0
                _read_file(engine, run, source, index, skip, fmt, options, enrich, bar, clock,
                           stop)
    except KeyboardInterrupt:
        return LogImportResult(run.record, resumed=resumed, interrupted=True)
    with write_transaction(engine) as conn:
        finished = records.finish_import(conn, _current(conn, run), clock())
    return LogImportResult(finished, resumed=resumed)


def _current(conn: Any, run: _Run) -> ImportRecord:
    found = records.get_import(conn, run.record.id)
    if found is None:
        raise ImportRefused(f"import #{run.record.id} was deleted while it ran")
    return found


def _read_file(engine: Engine, run: _Run, source: SourceFile, index: int, skip: int,
               fmt: str, options: LogImportOptions, enrich: Enrich,
               bar: Progress | None, clock: Callable[[], datetime],
               stop: StopOnInterrupt) -> None:
    parse = parser_for(fmt)
    rules = options.rules
    reported = 0
    with LineReader(source.path) as reader:
        number = 0
        try:
            for number, text in enumerate(reader, 1):   # noqa: B007 - used after the loop
                if number <= skip:
                    continue
                _one_line(run, parse, rules, enrich, source, number, text)
                run.batch_lines += 1
                if len(run.events) >= options.batch_events or \
                        run.batch_lines >= options.batch_lines:
                    _commit(engine, run, {"file": index, "line": number, "runner": _runner()},
                            clock())
                if bar and number & 0x1FFF == 0:
                    reported = _advance(bar, reader, reported)
                if stop.requested:   # Ctrl-C: keep what was read, then stop
                    _commit(engine, run, {"file": index, "line": number, "runner": _runner()},
                            clock())
                    raise KeyboardInterrupt
        except (EOFError, OSError) as exc:    # a truncated gzip: keep what was read
            run.bad("truncated_file", f"{source.name}:{number + 1}", str(exc))
        _commit(engine, run, {"file": index + 1, "line": 0, "runner": _runner()}, clock())
    if bar:
        bar.update(source.size - reported)


def _advance(bar: Progress, reader: LineReader, reported: int) -> int:
    now_at = reader.bytes_read()
    bar.update(now_at - reported)
    return now_at


def _one_line(run: _Run, parse: Callable[[str], LogLine], rules: PageViewRules,
              enrich: Enrich, source: SourceFile, number: int, text: str) -> None:
    run.lines += 1
    if not text.strip():
        run.skipped["empty_line"] += 1
        return
    try:
        line = parse(text)
    except BadLine as exc:
        run.bad(str(exc), f"{source.name}:{number}", text)
        return
    reason = rules.reason_to_skip(line)
    if reason is not None:
        run.skipped[reason] += 1
        return
    try:
        ts = line.ts
    except BadLine as exc:
        run.bad(str(exc), f"{source.name}:{number}", text)
        return
    run.read_pageviews += 1
    host = line.host or run.site.domain
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    hit = RawHit(received_at=ts, name="pageview", url=f"https://{host}{line.target}",
                 domains=(run.site.domain,), referrer=line.referrer, ip=line.ip,
                 user_agent=line.user_agent, timestamp=ts,
                 client_uid=f"log:{digest}:{number}")
    result = enrich(hit, run.visits.salts_of(ts.date()))
    if isinstance(result, Drop):
        name = Reason.OTHER_HOST if result.reason == "hostname_not_allowed" else result.reason
        run.skipped[name] += 1
        if result.bot is not None:
            label = f"{result.bot.category.value}|{result.bot.family}"
            run.bots[label] += 1
            run.batch_bots.append((stable_id(run.site.id, hit.client_uid), ts.date(),
                                   result.bot.category.value, result.bot.family))
        return
    run.visits.assign(result)
    run.seen(result.ts)
    run.events.append(result)


def _commit(engine: Engine, run: _Run, position: dict[str, Any], now: datetime) -> None:
    events = run.events
    with write_transaction(engine) as conn:
        if records.get_import(conn, run.record.id) is None:
            raise ImportRefused(f"import #{run.record.id} was deleted while it ran")
        dialect = dialect_for(conn)
        if events:
            dialect.append_events(conn, [e.to_tuple(dialect.time_value) for e in events],
                                  EVENT_COLUMNS)
            mark_dirty_days(conn, {(run.site.id, local_day(e.ts, run.zone)) for e in events},
                            now)
        # A bot line counted by an earlier import (the same line of a grown or rotated
        # file) is not counted again: its uid is linked like an event's.
        known = records.linked_uids(conn, [hit[0] for hit in run.batch_bots])
        bots = Counter(hit[1:] for hit in run.batch_bots if hit[0] not in known)
        records.save_checkpoint(conn, run.record, Checkpoint(
            position=position, state=run.visits.state(run.last_ts), counts=run.counts(),
            first_ts=run.first_ts, last_ts=run.last_ts, new_salts=run.visits.new_salts,
            event_uids=[e.uid for e in events] + [hit[0] for hit in run.batch_bots],
            bots=bots), now)
    run.visits.new_salts = {}
    run.events, run.batch_bots, run.batch_lines = [], [], 0
