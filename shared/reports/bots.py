"""Query layer: the "Bots & AI agents" report over `bot_counts` (the dropped bot hits
per site, UTC day, category and agent family), for the dashboard and the Stats API.

Bot hits are never events, so this reads its own small table, not the events or the
rollups; the days are the UTC days on which the beacon dropped them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.bot_categories import BotCategory

# What a report can be broken down by, and the column of each.
BOT_DIMENSIONS = {"day": "day", "category": "category", "family": "family"}
MAX_ROWS = 10_000


@dataclass(frozen=True)
class BotRow:
    dimensions: tuple[str, ...]   # in the order asked for; days as ISO dates
    count: int


def bot_report(conn: Connection, site_id: int, first: date, last: date,
               dimensions: tuple[str, ...] = ("category", "family"),
               categories: tuple[BotCategory, ...] = (), limit: int = MAX_ROWS) -> list[BotRow]:
    """Dropped bot hits from `first` to `last` (UTC days, inclusive), summed per
    `dimensions`, largest first (then by the dimension values, for a stable order)."""
    unknown = [d for d in dimensions if d not in BOT_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown bot dimensions: {', '.join(unknown)} "
                         f"(expected {', '.join(BOT_DIMENSIONS)})")
    t = schema.bot_counts
    cols = [t.c[BOT_DIMENSIONS[d]] for d in dimensions]
    total = sa.func.sum(t.c["count"]).label("hits")
    where = [t.c.site_id == site_id, t.c.day >= first, t.c.day <= last]
    if categories:
        where.append(t.c.category.in_([c.value for c in categories]))
    stmt = (sa.select(*cols, total).where(*where).group_by(*cols)
            .order_by(total.desc(), *cols).limit(max(1, min(limit, MAX_ROWS))))
    return [BotRow(tuple(_text(v) for v in row[:-1]), int(row[-1]))
            for row in conn.execute(stmt)]


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def bot_total(conn: Connection, site_id: int, first: date, last: date) -> int:
    """All dropped bot hits of the site in the range."""
    t = schema.bot_counts
    stmt = sa.select(sa.func.coalesce(sa.func.sum(t.c["count"]), 0)).where(
        t.c.site_id == site_id, t.c.day >= first, t.c.day <= last)
    return int(conn.execute(stmt).scalar_one())
