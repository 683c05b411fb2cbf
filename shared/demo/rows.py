"""Demo data, stage "seed": turn a day's numpy columns into event rows and bulk-write them.

Why not `shared.ingest.events.write_events`: SQLAlchemy's per-row parameter processing costs
~45 µs a row, so ten million demo events would spend 8 minutes there alone. The demo
instead hands ready-made tuples to the driver: one `executemany` per 50k rows on
SQLite (~50k rows/s) and `COPY` on PostgreSQL (~60k rows/s). The values are the ones
SQLAlchemy would have written (same datetime text on SQLite, JSON text for props);
a test reads them back through the normal query path. Idempotency comes from the
deterministic uids: a day whose first uid is already stored is skipped as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.records import EVENT_COLUMNS
from shared.demo import catalog as cat
from shared.demo.day import KIND_ENGAGEMENT, DayColumns
from shared.storage import Dialect, dialect_for

COLUMNS = EVENT_COLUMNS
KIND_NAMES = np.array(["pageview", "engagement", "Signup", "Download", "Purchase",
                       "Outbound Link: Click"], dtype=object)
PAGES = np.array(cat.page_paths(), dtype=object)
# Only the landing page's events carry referrer and campaign: later pages of a visit have
# an internal referrer, which the referrer step stores as "" / Direct. Row -1 is that.
_SRC = {name: np.array([getattr(s, name) for s in (*cat.SOURCES, cat.Source(0.0))],
                       dtype=object)
        for name in ("referrer", "referrer_source", "channel", "utm_source", "utm_medium",
                     "utm_campaign", "utm_content", "click_id")}
_GEO = [np.array([g[i] for g in cat.GEO], dtype=object) for i in range(4)]
_UA = [np.array([u[i] for u in cat.USER_AGENTS], dtype=object) for i in range(5)]
# The window class of each user agent: desktops alternate laptop and desktop widths.
_SCREEN = np.array([("laptop" if i % 2 else "desktop") if u[0] == "desktop" else u[0]
                    for i, u in enumerate(cat.USER_AGENTS)], dtype=object)
_EMPTY = json.dumps({})
# props JSON by (kind, extra index); the text SQLAlchemy's JSON type would store.
_PROPS = np.array([
    [_EMPTY] * 4, [_EMPTY] * 4,
    [json.dumps({"plan": p}) for p in cat.PLANS] + [_EMPTY],
    [json.dumps({"file": f}) for f in cat.FILES],
    [json.dumps({"plan": p}) for p in cat.PLANS] + [_EMPTY],
    [json.dumps({"url": u}) for u in cat.OUTBOUND] + [_EMPTY],
], dtype=object)


def _optional(values: np.ndarray, missing: np.ndarray) -> list[Any]:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def day_rows(cols: DayColumns, start: int, stop: int, site_id: int, hostname: str,
             midnight_utc: datetime, first_uid: int, dialect: Dialect) -> list[tuple[Any, ...]]:
    """Row tuples (in `COLUMNS` order) for the events [start, stop) of a day."""
    sl = slice(start, stop)
    visit, kind = cols.visit[sl], cols.kind[sl]
    n = len(kind)
    src = np.where(cols.entry[sl], cols.visit_source[visit], len(cat.SOURCES))
    geo, ua = cols.visit_geo[visit], cols.visit_ua[visit]
    base = np.datetime64(midnight_utc.replace(tzinfo=None), "us")
    ts = base + (cols.seconds[sl] * 1e6).astype("timedelta64[us]")
    revenue = cols.revenue[sl]
    no_revenue = np.isnan(revenue)
    currency = np.where(cols.currency[sl] == 1, "USD", "EUR")
    values = [
        (first_uid + np.arange(n)).tolist(), [site_id] * n, dialect.time_values(ts),
        KIND_NAMES[kind].tolist(), cols.visit_visitor[visit].tolist(),
        cols.visit_session[visit].tolist(), [hostname] * n, PAGES[cols.page[sl]].tolist(),
        *(_SRC[k][src].tolist() for k in ("referrer", "referrer_source", "channel",
                                          "utm_source", "utm_medium", "utm_campaign")),
        [""] * n, _SRC["utm_content"][src].tolist(), _SRC["click_id"][src].tolist(),
        *(col[geo].tolist() for col in _GEO[:3]),
        _UA[3][ua].tolist(), _UA[4][ua].tolist(), _UA[1][ua].tolist(), _UA[2][ua].tolist(),
        _UA[0][ua].tolist(), _GEO[3][geo].tolist(), _PROPS[kind, cols.extra[sl]].tolist(),
        _optional(revenue, no_revenue), _optional(currency, no_revenue),
        _optional(cols.engagement_ms[sl], cols.engagement_ms[sl] < 0),
        _optional(cols.scroll[sl], cols.scroll[sl] < 0), (kind != KIND_ENGAGEMENT).tolist(),
        _SCREEN[ua].tolist(), [""] * n,
    ]
    return list(zip(*values, strict=True))


def write_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Bulk-append row tuples inside the caller's transaction."""
    if not rows:
        return
    dialect_for(conn).bulk_load_events(conn, rows, COLUMNS)


def uid_stored(conn: Connection, uid: int) -> bool:
    """True when an event with this uid exists (the day holding it was written)."""
    e = schema.events
    return conn.execute(sa.select(e.c.id).where(e.c.uid == uid)).first() is not None
