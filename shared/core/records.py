"""Hand-off types between the stages: RawHit (parsed request), Event (row), DropReason.

A RawHit is built once at the edge from the request and never changes; enrichment
steps turn it into an `Event` (one row of the events table) or a `Drop`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.core.bot_categories import BotLabel


class DropReason(StrEnum):
    """Why an event was not stored. Counted per site per day and sent as a header."""

    PREFETCH = "prefetch"
    BOT = "bot"
    AUTOMATION = "automation"
    EMPTY_USER_AGENT = "empty_user_agent"
    REFERRER_SPAM = "referrer_spam"
    UNKNOWN_SITE = "unknown_site"
    HOSTNAME_NOT_ALLOWED = "hostname_not_allowed"
    IGNORED_IP = "ignored_ip"
    DO_NOT_TRACK = "do_not_track"
    RATE_LIMITED = "rate_limited"
    SPOOL_FULL = "spool_full"                 # BEACON_SPOOL_MAX_BYTES reached
    SPOOL_UNAVAILABLE = "spool_unavailable"   # the spool folder cannot be written
    NOT_HTTP_URL = "not_http_url"
    INTERNAL_ERROR = "internal_error"         # a bug: logged with its traceback, alert on it


@dataclass(frozen=True)
class RawHit:
    """One hit as the request delivered it, capped and typed, before enrichment."""

    received_at: datetime          # UTC, naive; from the clock passed to the parser
    name: str                      # "pageview", "engagement" or a custom event name
    url: str
    domains: tuple[str, ...]       # the d/domain field split on commas, lower-cased
    referrer: str = ""
    props: dict[str, str] = field(default_factory=dict)
    revenue_amount: float | None = None
    revenue_currency: str | None = None
    hash_mode: bool = False
    interactive: bool = True
    engagement_ms: int | None = None
    scroll_depth: int | None = None
    screen_width: int | None = None     # the tracker's window width (`w`), CSS pixels
    ip: str = ""
    user_agent: str = ""
    accept_language: str = ""
    dnt: bool = False
    gpc: bool = False
    prefetch: bool = False
    webdriver: bool = False
    browser_headers: bool = True   # False: a pixel/204 request without Accept, Accept-Encoding
    timestamp: datetime | None = None   # only from the authenticated batch API
    client_uid: str = ""     # only from the batch API: the sender's id of the event


@dataclass
class Event:
    """One row of the `events` table, filled in by the enrichment steps."""

    site_id: int
    ts: datetime
    name: str
    hostname: str = ""
    pathname: str = "/"
    uid: int = 0                    # random 63-bit id; makes spool replays idempotent
    visitor_id: int = 0             # keyed hash, current salt
    visitor_id_prev: int = 0        # keyed hash, previous salt (a visit across midnight)
    session_id: int = 0
    referrer: str = ""
    referrer_source: str = ""
    channel: str = "Direct"
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    click_id: bool = False
    country: str = ""
    region: str = ""
    city: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: str = ""
    language: str = ""
    props: dict[str, str] = field(default_factory=dict)
    revenue_amount: float | None = None
    revenue_currency: str | None = None
    engagement_ms: int | None = None
    scroll_depth: int | None = None
    interactive: bool = True
    screen_size: str = ""           # shared/core/screen_size.py; "" when not sent
    search_term: str = ""           # the site-search term of the page's query, if any

    def to_row(self) -> dict[str, Any]:
        """The column values for an INSERT (visitor_id_prev is not a column)."""
        row = dict(self.__dict__)
        row.pop("visitor_id_prev")
        return row

    def to_tuple(self, time_value: Callable[[datetime], Any]) -> tuple[Any, ...]:
        """The values of `EVENT_COLUMNS` as the driver takes them: the time through
        `time_value` (the storage Dialect's: SQLite takes the text SQLAlchemy would write
        for a DATETIME), props as JSON text."""
        return (self.uid, self.site_id, time_value(self.ts), self.name, self.visitor_id,
                self.session_id,
                self.hostname, self.pathname, self.referrer, self.referrer_source,
                self.channel, self.utm_source, self.utm_medium, self.utm_campaign,
                self.utm_term, self.utm_content, self.click_id, self.country, self.region,
                self.city, self.browser, self.browser_version, self.os, self.os_version,
                self.device, self.language, json.dumps(self.props), self.revenue_amount,
                self.revenue_currency, self.engagement_ms, self.scroll_depth,
                self.interactive, self.screen_size, self.search_term)


def sqlite_time_text(ts: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores a DATETIME in SQLite (so rows written
    through the driver and through SQLAlchemy read back the same)."""
    return ts.isoformat(sep=" ", timespec="microseconds")


# The events columns an INSERT fills, in `Event.to_tuple` order (the id is the database's).
EVENT_COLUMNS = ("uid", "site_id", "ts", "name", "visitor_id", "session_id", "hostname",
                 "pathname", "referrer", "referrer_source", "channel", "utm_source",
                 "utm_medium", "utm_campaign", "utm_term", "utm_content", "click_id",
                 "country", "region", "city", "browser", "browser_version", "os",
                 "os_version", "device", "language", "props", "revenue_amount",
                 "revenue_currency", "engagement_ms", "scroll_depth", "interactive",
                 "screen_size", "search_term")


@dataclass(frozen=True)
class Drop:
    """An event that enrichment refused; `site_id` is 0 when no site matched."""

    reason: DropReason
    site_id: int = 0
    bot: BotLabel | None = None    # who it was, for the bot counts (bots only)
