"""The record of processing: what Beacon collects and keeps, built from the live settings.

Generated, not written by hand, so it cannot drift from what the installation really
does: the retention, the privacy switches and the salt age come from the database and
the settings of the moment. The dashboard shows it; `as_text` makes the printable copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.settings import Settings
from shared.core.spool_policy import spool_retention
from shared.sites import Site
from shared.storage import dialect_for

COLLECTED = (
    ("Page address", "host name and path of the page viewed; the query string is not "
                     "stored (campaign tags are kept apart, below)"),
    ("Referrer", "scheme, host and path of an external page that linked here (no query), "
                 "and the source name derived from it"),
    ("Campaign tags", "utm_source, utm_medium, utm_campaign, utm_term, utm_content"),
    ("Location", "country, region and city looked up from the IP address in memory"),
    ("Device", "browser, operating system and device type parsed from the User-Agent"),
    ("Custom events", "event names, their properties and revenue that the site sends"),
    ("Engagement", "time on page and scroll depth, when the tracker reports them"),
    ("Automated clients", "hits dropped as bots, counted per day by category and agent "
                          "family (e.g. 'GPTBot'); no User-Agent, IP address or page"),
)
NOT_COLLECTED = (
    ("IP address", "used in memory for the location and the visitor hash, never stored"),
    ("Raw User-Agent", "only the parsed browser, OS and device type are stored"),
    ("Cookies / local storage", "none are set or read; no consent banner is needed for them"),
    ("Cross-day identifiers", "the visitor hash changes every day with the daily salt"),
)
PURPOSE = ("Aggregate audience measurement of the site's own pages: how many people visit, "
           "which pages, from where, with which devices. No profiling, no advertising, no "
           "sharing with third parties.")


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[tuple[str, str], ...]


def _months(months: int) -> str:
    return "kept until the site is deleted" if months == 0 else f"deleted after {months} months"


def _storage(settings: Settings) -> str:
    url = sa.engine.make_url(settings.resolved_database_url)
    dialect = dialect_for(url)
    if dialect.database_file(url) is not None:
        return f"{dialect.title} database file on this server (embedded)"
    return f"{dialect.title} database {url.database!r} on host {url.host or 'local socket'}"


def _salts(conn: Connection, now: datetime) -> str:
    oldest = conn.execute(sa.select(sa.func.min(schema.salts.c.created_at))).scalar()
    count = conn.execute(sa.select(sa.func.count()).select_from(schema.salts)).scalar()
    age = "none stored yet" if oldest is None else (
        f"{count} stored, oldest created {(now - oldest).total_seconds() / 3600:.0f} h ago")
    return ("a new random salt every day at 00:00 UTC; the previous day's is kept so visits "
            f"across midnight continue; salts older than 48 h are deleted ({age})")


def _two_factor(settings: Settings) -> str:
    required = {"off": "optional for every user", "admins": "required for admins, "
                "optional for others", "all": "required for every user"}[settings.require_2fa]
    return (f"authenticator app codes (TOTP) with single-use recovery codes; {required} "
            "(BEACON_REQUIRE_2FA)")


def _audit_retention(settings: Settings) -> str:
    days = settings.audit_retention_days
    return "kept forever" if days <= 0 else f"entries deleted after {days} days"


def site_section(site: Site) -> Section:
    on_off = {True: "on", False: "off"}
    return Section(f"Site {site.domain}", (
        ("Time zone of reports", site.timezone),
        ("Raw events", _months(site.retention_months)),
        ("Daily aggregates", _months(site.rollup_retention_months)),
        ("Honour Do Not Track / Global Privacy Control", on_off[site.honor_dnt]),
        ("Browser language recorded", on_off[site.collect_language]),
        ("Own traffic excluded (IP ranges)", str(len(site.ignored_ips))),
    ))


def build_record(conn: Connection, settings: Settings, sites: list[Site],
                 now: datetime) -> list[Section]:
    """The sections of the record, for `sites` (the ones the reader may see)."""
    sections = [
        Section("Purpose", (("Purpose of processing", PURPOSE),
                            ("Legal basis (suggested)", "legitimate interest: anonymous, "
                             "aggregate statistics"))),
        Section("Collected", COLLECTED),
        Section("Not collected", NOT_COLLECTED),
        Section("Pseudonymisation", (
            ("Visitor hash", "keyed hash of daily salt, site, IP address and User-Agent; "
                             "'visitors' over several days is the sum of daily uniques"),
            ("Salt rotation and deletion", _salts(conn, now)),
            ("Visit", f"ends after {settings.session_timeout_minutes} minutes without "
                      "activity"),
        )),
        Section("Storage", (
            ("Where", _storage(settings)),
            ("Local write-ahead spool", spool_retention(settings.flush_interval_ms,
                                                        settings.spool_max_bytes)),
            ("Access", "dashboard accounts with per-site roles; public share links only "
                       "where an owner created them"),
            ("Second factor at sign-in", _two_factor(settings)),
            ("Raw-event exports from the dashboard", "files in the data folder (readable "
             "by the service account only), handed only to the user who asked for them, "
             f"deleted after {settings.export_keep_hours} hours"),
        )),
        Section("Accountability", (
            ("Audit log", "every change made by a person (sign-ins, users and roles, sites "
                          "and their settings, goals, funnels, keys, share links, exports, "
                          "purges) with who, when and from where; admins read it on the "
                          "dashboard's Audit log page and export it as CSV"),
            ("Audit log retention", _audit_retention(settings)),
            ("Audit log contents", "e-mail addresses of the people who made changes and "
                                   "the settings they changed; no visitor data"),
        )),
    ]
    return sections + [site_section(s) for s in sites]


def as_text(sections: list[Section], generated_at: datetime) -> str:
    """The printable record: plain text, one block per section."""
    lines = ["Record of processing - Beacon Analytics",
             f"Generated {generated_at:%Y-%m-%d %H:%M} UTC from the live configuration", ""]
    for section in sections:
        lines += [section.title, "-" * len(section.title)]
        lines += [f"{key}: {value}" for key, value in section.rows]
        lines.append("")
    return "\n".join(lines)
