"""Notify stage: the periods reports cover, in the site's local days.

A weekly report covers Monday to Sunday and is due from the Monday after; a monthly
report covers a calendar month and is due from the 1st of the next. With `so_far`, the
period that is running (Monday or the 1st up to today) - for trying a report out.
"""

from __future__ import annotations

from datetime import date, timedelta

KINDS = ("week", "month")


def last_complete(kind: str, today: date) -> tuple[date, date]:
    """The latest whole week or month that ended before `today`."""
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if kind == "month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(f"unknown report period {kind!r} (expected week or month)")


def so_far(kind: str, today: date) -> tuple[date, date]:
    """The running week or month, from its first day to `today`."""
    if kind == "week":
        return today - timedelta(days=today.weekday()), today
    if kind == "month":
        return today.replace(day=1), today
    raise ValueError(f"unknown report period {kind!r} (expected week or month)")


def describe(first: date, last: date) -> str:
    """"30 Nov – 6 Dec 2026", "1 – 30 Nov 2026"."""
    if first.year != last.year:
        return f"{first:%-d %b %Y} – {last:%-d %b %Y}"
    if first.month != last.month:
        return f"{first:%-d %b} – {last:%-d %b %Y}"
    if first == last:
        return f"{last:%-d %b %Y}"
    return f"{first:%-d} – {last:%-d %b %Y}"
