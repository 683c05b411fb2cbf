"""Annotations: a note on one local day or a range of days of a site ("Launched the new
pricing page", "Tracking down 3-5 May"), drawn on the site's charts.

Managed from the dashboard, the CLI (`beacon annotations`) and read by the Stats API
(`GET /api/v2/annotations`). The text is the author's, but it is shown to every user of
the site and in shared dashboards: it is stored as plain text (control characters
removed) and rendered as text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.stats.limits import EARLIEST_DAY
from shared.stats.query import QueryError

A = schema.notes
MAX_TEXT = 500
MAX_DAYS = 3660          # a range of ten years says nothing a chart can show


@dataclass(frozen=True)
class Annotation:
    id: int
    site_id: int
    first_day: date
    last_day: date
    text: str
    author: str | None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "date": self.first_day.isoformat(),
                "end_date": self.last_day.isoformat(), "text": self.text,
                "author": self.author}


def clean_text(text: str) -> str:
    """The note without control or format characters (a bidi override would reorder the
    chart's labels), trimmed; refused when empty or longer than MAX_TEXT."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).strip()
    if not kept:
        raise QueryError("an annotation needs some text")
    if len(kept) > MAX_TEXT:
        raise QueryError(f"an annotation's text is at most {MAX_TEXT} characters "
                         f"(got {len(kept)})")
    return kept


def _check_days(first: date, last: date) -> None:
    if last < first:
        raise QueryError(f"an annotation's end {last.isoformat()} is before its start "
                         f"{first.isoformat()}")
    if first < EARLIEST_DAY:
        raise QueryError(f"an annotation starts on {EARLIEST_DAY.isoformat()} at the earliest")
    if (last - first).days >= MAX_DAYS:
        raise QueryError(f"an annotation covers at most {MAX_DAYS} days")


def _from_row(row: sa.Row[tuple[object, ...]]) -> Annotation:
    m = row._mapping
    return Annotation(m["id"], m["site_id"], m["first_day"], m["last_day"], m["text"],
                      m["author"])


def add_annotation(conn: Connection, site_id: int, first_day: date, text: str, *,
                   last_day: date | None = None, author: str | None = None,
                   now: datetime) -> Annotation:
    """Note `text` on `first_day` (through `last_day`, inclusive, for a range)."""
    last = last_day or first_day
    _check_days(first_day, last)
    new_id = conn.execute(sa.insert(A).values(
        site_id=site_id, first_day=first_day, last_day=last, text=clean_text(text),
        author=author, created_at=now).returning(A.c.id)).scalar_one()
    return get_annotation(conn, site_id, new_id)


def get_annotation(conn: Connection, site_id: int, annotation_id: int) -> Annotation:
    row = conn.execute(sa.select(A).where(A.c.site_id == site_id, A.c.id == annotation_id)
                       ).first()
    if row is None:
        raise QueryError(f"no annotation {annotation_id} on this site "
                         "(see `beacon annotations list`)")
    return _from_row(row)


def update_annotation(conn: Connection, site_id: int, annotation_id: int, *,
                      text: str | None = None, first_day: date | None = None,
                      last_day: date | None = None) -> Annotation:
    """Change the text and/or the days of an annotation (what is not given is kept)."""
    old = get_annotation(conn, site_id, annotation_id)
    first = first_day or old.first_day
    last = last_day or (old.last_day if first_day is None else first)
    _check_days(first, last)
    conn.execute(sa.update(A).where(A.c.id == old.id).values(
        first_day=first, last_day=last,
        text=clean_text(text) if text is not None else old.text))
    return get_annotation(conn, site_id, annotation_id)


def remove_annotation(conn: Connection, site_id: int, annotation_id: int) -> Annotation:
    old = get_annotation(conn, site_id, annotation_id)
    conn.execute(sa.delete(A).where(A.c.id == old.id))
    return old


def list_annotations(conn: Connection, site_id: int, first: date | None = None,
                     last: date | None = None) -> list[Annotation]:
    """The site's annotations, by start day; only those overlapping first..last if given."""
    q = sa.select(A).where(A.c.site_id == site_id)
    if last is not None:
        q = q.where(A.c.first_day <= last)
    if first is not None:
        # The index is on first_day: a range longer than MAX_DAYS cannot reach `first`.
        q = q.where(A.c.first_day >= first - timedelta(days=MAX_DAYS), A.c.last_day >= first)
    return [_from_row(r) for r in conn.execute(q.order_by(A.c.first_day, A.c.id))]
