"""The audit log as CSV: one row per entry, oldest first, formula-safe.

Cells a spreadsheet would run as a formula (an e-mail or a goal name starting with `=`,
`+`, `-`, `@`) get the same apostrophe as every other export (`export.neutralise`).
Written a page at a time, so a long log never sits in memory whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO

from sqlalchemy.engine import Connection

from shared.accounts.audit import AuditEntry, AuditFilter, iter_entries
from shared.dataout.export import neutralise

COLUMNS = ("id", "at_utc", "actor", "source", "action", "target", "site_id", "details")


def _cells(entry: AuditEntry) -> list[str]:
    details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
    values = [str(entry.id), entry.at.isoformat(timespec="seconds"), entry.actor,
              entry.source, entry.action, entry.target,
              "" if entry.site_id is None else str(entry.site_id), details]
    return [neutralise(v) for v in values]


def csv_lines(conn: Connection, f: AuditFilter | None = None) -> Iterator[str]:
    """The CSV text, line by line (header first)."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield buffer.take()
    for entry in iter_entries(conn, f):
        writer.writerow(_cells(entry))
        yield buffer.take()


def write_csv(conn: Connection, out: IO[str], f: AuditFilter | None = None) -> int:
    """Write the CSV to `out`; the number of entries written."""
    count = -1
    for line in csv_lines(conn, f):
        out.write(line)
        count += 1
    return count


def csv_bytes(conn: Connection, f: AuditFilter | None = None) -> bytes:
    return "".join(csv_lines(conn, f)).encode("utf-8")


class _LineBuffer:
    """What csv.writer writes to: keeps the last row until taken."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def take(self) -> str:
        text, self.text = self.text, ""
        return text
