"""Sites: registration, settings, lookup by hostname, deletion with all their data."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.clock import local_day, utc_now
from shared.core.last_good import LastGood
from shared.rollups.mark import mark_dirty_range

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
                        r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class SiteError(ValueError):
    """A site operation was refused; the message says why, in one line."""


@dataclass(frozen=True)
class Site:
    id: int
    domain: str
    timezone: str = "UTC"
    ignored_ips: tuple[str, ...] = ()
    extra_hostnames: tuple[str, ...] = ()
    honor_dnt: bool = False
    collect_language: bool = True
    allow_localhost: bool = False
    api_token_hash: str | None = None
    retention_months: int = 0
    rollup_retention_months: int = 0
    search_params: tuple[str, ...] = ()     # site-search query parameters (SEARCH_PARAMS)
    networks: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def ignores(self, ip: str) -> bool:
        if not self.networks or not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self.networks)


def normalise_domain(raw: str) -> str:
    """`https://WWW.Example.com/` -> `example.com`; raises SiteError when it is not a domain."""
    domain = raw.strip().lower()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain).split("/")[0].split(":")[0]
    domain = domain.removeprefix("www.").rstrip(".")
    if not _DOMAIN_RE.match(domain):
        raise SiteError(f"{raw!r} is not a domain name (expected e.g. example.com)")
    return domain


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(f"unknown timezone {name!r} (expected an IANA name such as "
                        "Europe/Berlin)") from None
    if name not in available_timezones() and name != "UTC":
        raise SiteError(f"unknown timezone {name!r}")
    return name


def parse_networks(values: list[str] | tuple[str, ...]) -> tuple[Any, ...]:
    nets = []
    for value in values:
        try:
            nets.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise SiteError(f"{value!r} is not an IP address or CIDR range") from None
    return tuple(nets)


def _from_row(row: Any) -> Site:
    m = row._mapping
    ignored = tuple(m["ignored_ips"] or ())
    return Site(
        id=m["id"], domain=m["domain"], timezone=m["timezone"], ignored_ips=ignored,
        extra_hostnames=tuple(m["extra_hostnames"] or ()), honor_dnt=m["honor_dnt"],
        collect_language=m["collect_language"], allow_localhost=m["allow_localhost"],
        api_token_hash=m["api_token_hash"], retention_months=m["retention_months"],
        rollup_retention_months=m["rollup_retention_months"],
        search_params=SEARCH_PARAMS if m["search_params"] is None
        else tuple(m["search_params"]),
        networks=parse_networks(ignored),
    )


def list_sites(conn: Connection) -> list[Site]:
    rows = conn.execute(sa.select(schema.sites).order_by(schema.sites.c.domain))
    return [_from_row(r) for r in rows]


def get_site(conn: Connection, domain_or_id: str | int) -> Site | None:
    t = schema.sites
    if isinstance(domain_or_id, int):
        cond = t.c.id == domain_or_id
    else:
        cond = t.c.domain == normalise_domain(domain_or_id)
    row = conn.execute(sa.select(t).where(cond)).first()
    return _from_row(row) if row else None


def require_site(conn: Connection, domain_or_id: str | int) -> Site:
    site = get_site(conn, domain_or_id)
    if site is None:
        raise SiteError(f"no site {domain_or_id!r} (see `beacon sites list`)")
    return site


def add_site(conn: Connection, domain: str, *, timezone: str = "UTC",
             now: datetime | None = None, **options: Any) -> Site:
    domain = normalise_domain(domain)
    if get_site(conn, domain) is not None:
        raise SiteError(f"site {domain} already exists")
    values = _option_values(options)
    conn.execute(sa.insert(schema.sites).values(
        domain=domain, timezone=check_timezone(timezone),
        created_at=(now or utc_now()).replace(tzinfo=None),
        ignored_ips=values.pop("ignored_ips", []),
        extra_hostnames=values.pop("extra_hostnames", []), **values,
    ))
    return require_site(conn, domain)


def update_site(conn: Connection, domain: str, **options: Any) -> Site:
    """Change a site's settings. A new timezone moves every local day, so each day that
    has raw events is marked for a rollup rebuild in the new zone (the worker does it;
    until then those days are answered from raw events)."""
    site = require_site(conn, domain)
    values = _option_values(options)
    if "timezone" in options and options["timezone"] is not None:
        values["timezone"] = check_timezone(options["timezone"])
    if values:
        conn.execute(sa.update(schema.sites).where(schema.sites.c.id == site.id).values(**values))
    if values.get("timezone", site.timezone) != site.timezone:
        _redo_local_days(conn, site.id, site.timezone, values["timezone"])
    return require_site(conn, site.id)


def _redo_local_days(conn: Connection, site_id: int, old: str, new: str) -> None:
    """Drop the rollup rows of the days the raw events cover (in either zone) and mark
    those days, counted in the new zone, for a rebuild. Older rollup rows - kept after
    their raw events expired - cannot be rebuilt and stay as they are."""
    e = schema.events
    first, last = conn.execute(sa.select(sa.func.min(e.c.ts), sa.func.max(e.c.ts))
                               .where(e.c.site_id == site_id)).one()
    if first is None:
        return
    since = min(local_day(first, ZoneInfo(old)), local_day(first, ZoneInfo(new)))
    for table in (schema.daily_rollups, schema.rollup_visits, schema.rollup_visit_events):
        conn.execute(sa.delete(table).where(table.c.site_id == site_id, table.c.day >= since))
    mark_dirty_range(conn, site_id, new, first, last, utc_now())


_OPTIONS = ("ignored_ips", "extra_hostnames", "honor_dnt", "collect_language",
            "allow_localhost", "retention_months", "rollup_retention_months", "search_params")
# The query parameters most site-search engines put the term in (WordPress `s`, ...).
SEARCH_PARAMS = ("q", "query", "s", "search", "searchword", "k", "keyword")
MAX_SEARCH_PARAMS = 20


def check_search_params(names: Any) -> list[str]:
    """Parameter names, lower-cased; an empty list turns site search off."""
    out: list[str] = []
    for raw in names:
        name = str(raw).strip().lower()
        if not name:
            continue
        if len(name) > 100 or any(ch.isspace() or not ch.isprintable() for ch in name):
            raise SiteError(f"{name[:40]!r} is not a query parameter name")
        if name not in out:
            out.append(name)
    if len(out) > MAX_SEARCH_PARAMS:
        raise SiteError(f"at most {MAX_SEARCH_PARAMS} site-search parameters")
    return out


def _option_values(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in options.items():
        if value is None or key == "timezone":
            continue
        if key not in _OPTIONS:
            raise SiteError(f"unknown site setting {key!r}")
        if key == "ignored_ips":
            parse_networks(value)
            value = [v.strip() for v in value if v.strip()]
        elif key == "extra_hostnames":
            value = [normalise_domain(v) for v in value if v.strip()]
        elif key == "search_params":
            value = check_search_params(value)
        elif key.endswith("_months") and int(value) < 0:
            raise SiteError(f"{key} must not be negative")
        values[key] = value
    return values


def remove_site(conn: Connection, domain: str) -> Site:
    """Delete a site and every row that belongs to it (events, rollups, goals, ...)."""
    site = require_site(conn, domain)
    for table in schema.metadata.sorted_tables:
        if table.name == "sites" or table in schema.SITE_HISTORY_TABLES:
            continue  # the audit log records the removal itself and keeps what came before
        if "site_id" in table.c:
            conn.execute(sa.delete(table).where(table.c.site_id == site.id))
    conn.execute(sa.delete(schema.sites).where(schema.sites.c.id == site.id))
    return site


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_ingest_token(conn: Connection, domain: str) -> str:
    """Create (or replace) the site's token for POST /api/events; returns it once."""
    site = require_site(conn, domain)
    token = "bk_" + secrets.token_urlsafe(32)
    conn.execute(sa.update(schema.sites).where(schema.sites.c.id == site.id)
                 .values(api_token_hash=hash_token(token)))
    return token


class SiteDirectory:
    """Hostname -> Site lookup for the beacon, served from memory and refreshed from the
    database every few seconds in the background, so a site added with the CLI is served
    without a restart and a database outage changes nothing for the sites known before
    it. With `file`, the last good list is kept on disk for a process started during an
    outage (see shared/core/last_good.py)."""

    def __init__(self, engine: Engine, ttl_seconds: float = 5.0,
                 file: Path | None = None) -> None:
        self._engine = engine
        self._copy: LastGood[_SiteIndex] = LastGood(
            "sites", self._load, interval=ttl_seconds, file=file,
            encode=lambda index: [_site_record(s) for s in index.by_id.values()],
            decode=lambda records: _SiteIndex([_site_from_record(r) for r in records]))

    def _load(self) -> _SiteIndex:
        with self._engine.connect() as conn:
            return _SiteIndex(list_sites(conn))

    def _index(self) -> _SiteIndex:
        return self._copy.get() or _EMPTY_INDEX

    def refresh(self) -> bool:
        """Load now; False when the database could not be read (the old copy stays)."""
        return self._copy.refresh()

    @property
    def loaded(self) -> bool:
        """True once there is a site list at all (from the database or the disk copy)."""
        return self._copy.get() is not None

    def status(self) -> dict[str, Any]:
        return self._copy.status()

    def by_domain(self, domain: str) -> Site | None:
        return self._index().by_host.get(domain.lower().removeprefix("www."))

    def by_id(self, site_id: int) -> Site | None:
        return self._index().by_id.get(site_id)

    def all(self) -> list[Site]:
        return list(self._index().by_id.values())

    def by_token_hash(self, digest: str) -> Site | None:
        """The site whose batch API token hashes to `digest` (compared in constant time).

        A token not in the copy may have been made in the last seconds (`beacon sites
        token`): the copy is then reloaded, at most once a second, before saying no."""
        found = self._with_token(digest)
        if found is None and self._copy.refresh_if_allowed(min_age=1.0):
            found = self._with_token(digest)
        return found

    def _with_token(self, digest: str) -> Site | None:
        found = None
        for site in self._index().by_id.values():
            if site.api_token_hash and hmac.compare_digest(site.api_token_hash, digest):
                found = site
        return found

    def invalidate(self) -> None:
        self._copy.invalidate()

    def close(self) -> None:
        self._copy.close()


class _SiteIndex:
    def __init__(self, sites: list[Site]) -> None:
        self.by_id = {s.id: s for s in sites}
        self.by_host: dict[str, Site] = {}
        for site in sites:
            self.by_host[site.domain] = site
        for site in sites:
            for host in site.extra_hostnames:
                self.by_host.setdefault(host, site)


_EMPTY_INDEX = _SiteIndex([])


def _site_record(site: Site) -> dict[str, Any]:
    record = {f.name: getattr(site, f.name) for f in fields(Site) if f.name != "networks"}
    record["ignored_ips"], record["extra_hostnames"] = list(site.ignored_ips), \
        list(site.extra_hostnames)
    record["search_params"] = list(site.search_params)
    return record


def _site_from_record(record: dict[str, Any]) -> Site:
    # A copy saved before a field existed lacks it: the field's default.
    values = {f.name: record[f.name] for f in fields(Site)
              if f.name != "networks" and f.name in record}
    values["search_params"] = tuple(record.get("search_params", SEARCH_PARAMS))
    values["ignored_ips"] = tuple(values["ignored_ips"])
    values["extra_hostnames"] = tuple(values["extra_hostnames"])
    return Site(**values, networks=parse_networks(values["ignored_ips"]))
