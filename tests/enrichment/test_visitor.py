"""visitor_id: keyed BLAKE2b-64, signed, stable for the same inputs and salt."""

from __future__ import annotations

import hashlib

import pytest

from beacon_app.enrichment.visitor import visitor_id

SALT = bytes(range(32))
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_matches_keyed_blake2b() -> None:
    digest = hashlib.blake2b(f"1|203.0.113.9|{UA}".encode(), key=SALT, digest_size=8).digest()
    assert visitor_id(SALT, 1, "203.0.113.9", UA) == int.from_bytes(digest, "big", signed=True)


def test_stable_for_same_inputs() -> None:
    assert visitor_id(SALT, 1, "203.0.113.9", UA) == visitor_id(SALT, 1, "203.0.113.9", UA)


@pytest.mark.parametrize(("salt", "site", "ip", "ua"), [
    (b"other salt", 1, "203.0.113.9", UA),
    (SALT, 2, "203.0.113.9", UA),
    (SALT, 1, "203.0.113.10", UA),
    (SALT, 1, "203.0.113.9", UA + " "),
], ids=["salt", "site", "ip", "user-agent"])
def test_each_input_changes_the_id(salt: bytes, site: int, ip: str, ua: str) -> None:
    assert visitor_id(salt, site, ip, ua) != visitor_id(SALT, 1, "203.0.113.9", UA)


def test_fits_bigint_and_uses_the_sign_bit() -> None:
    ids = [visitor_id(SALT, 1, f"198.51.100.{i}", UA) for i in range(256)]
    assert all(-(2**63) <= v < 2**63 for v in ids)
    assert any(v < 0 for v in ids) and any(v > 0 for v in ids)
    assert len(set(ids)) == len(ids)


def test_lone_surrogates_do_not_raise() -> None:
    assert isinstance(visitor_id(SALT, 1, "", "\ud800ua"), int)
