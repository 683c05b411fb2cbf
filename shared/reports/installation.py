"""The installation check of a new site: has any event arrived yet, and which hits for it
did the beacon drop lately, and why ("3 hits dropped: automation").

The drop counts are what the beacon keeps per site, UTC day and reason (`drop_counts`);
the dashboard's "waiting for the first event" state shows them, because the first
visits of a new site are often dropped (an automated browser, a hostname not allowed,
Do Not Track) and say so nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.records import DropReason

# What each reason means to the person installing the snippet.
REASON_HINTS: dict[str, str] = {
    DropReason.AUTOMATION: "an automated or headless browser (navigator.webdriver set)",
    DropReason.BOT: "a crawler or bot user agent",
    DropReason.EMPTY_USER_AGENT: "no user agent at all",
    DropReason.PREFETCH: "a prefetch or prerender, not a real visit",
    DropReason.REFERRER_SPAM: "a referrer on the spam list",
    DropReason.HOSTNAME_NOT_ALLOWED: "a page whose hostname this site does not allow",
    DropReason.IGNORED_IP: "an address on the site's ignore list",
    DropReason.DO_NOT_TRACK: "the browser's Do Not Track / Global Privacy Control signal",
    DropReason.RATE_LIMITED: "too many requests from one address",
    DropReason.NOT_HTTP_URL: "a page that is not an http(s) URL (a file or an app)",
    DropReason.SPOOL_FULL: "the beacon's spool was full",
    DropReason.SPOOL_UNAVAILABLE: "the beacon's spool folder could not be written",
    DropReason.INTERNAL_ERROR: "an error in the beacon (see its log)",
}


@dataclass(frozen=True)
class DroppedHits:
    reason: str
    count: int

    @property
    def hint(self) -> str:
        return REASON_HINTS.get(self.reason, self.reason.replace("_", " "))


def has_events(conn: Connection, site_id: int) -> bool:
    """True once any event of the site is stored (one indexed row, not a count)."""
    t = schema.events
    row = conn.execute(sa.select(t.c.id).where(t.c.site_id == site_id).limit(1)).first()
    return row is not None


def recent_drops(conn: Connection, site_id: int, today: date,
                 days: int = 7) -> list[DroppedHits]:
    """Hits dropped for the site over the last `days` UTC days, most frequent first."""
    t = schema.drop_counts
    total = sa.func.sum(t.c.count)
    rows = conn.execute(
        sa.select(t.c.reason, total.label("n"))
        .where(t.c.site_id == site_id, t.c.day >= today - timedelta(days=days - 1))
        .group_by(t.c.reason).order_by(total.desc(), t.c.reason)).all()
    return [DroppedHits(str(reason), int(n)) for reason, n in rows if n]
