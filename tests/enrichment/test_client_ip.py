"""client_ip: the socket address, or the trusted hop of X-Forwarded-For."""

from __future__ import annotations

import pytest

from beacon_app.enrichment.client_ip import client_ip

CASES = [
    ("203.0.113.9", None, 0, "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", 0, "203.0.113.9"),
    ("10.0.0.2", "198.51.100.1", 1, "198.51.100.1"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.1", 1, "198.51.100.1"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.1", 2, "198.51.100.1"),
    ("10.0.0.2", "198.51.100.1", 2, "10.0.0.2"),
    ("10.0.0.2", "not-an-ip", 1, "10.0.0.2"),
    ("10.0.0.2", "", 1, "10.0.0.2"),
    ("10.0.0.2", "198.51.100.1:5678", 1, "198.51.100.1"),
    ("10.0.0.2", "[2001:db8::1]:443", 1, "2001:db8::1"),
    ("10.0.0.2", "2001:DB8:0:0::1", 1, "2001:db8::1"),
    ("10.0.0.2", "::ffff:198.51.100.7", 1, "198.51.100.7"),
    ("10.0.0.2", "198.51.100.1\x00", 1, "10.0.0.2"),
    ("10.0.0.2", "1.1.1.1," * 5000, 1, "10.0.0.2"),
    ("garbage", None, 0, ""),
    ("", "garbage", 1, ""),
    ("fe80::1%eth0", None, 0, "fe80::1"),
]


@pytest.mark.parametrize(("remote", "xff", "proxies", "expected"), CASES,
                         ids=[f"{i}-{c[3] or 'empty'}" for i, c in enumerate(CASES)])
def test_client_ip(remote: str, xff: str | None, proxies: int, expected: str) -> None:
    assert client_ip(remote, xff, proxies) == expected


def test_forged_left_entries_are_never_used() -> None:
    # The client wrote "1.2.3.4"; only the proxy's own entry counts.
    assert client_ip("10.0.0.2", "1.2.3.4, 198.51.100.1", 1) != "1.2.3.4"
