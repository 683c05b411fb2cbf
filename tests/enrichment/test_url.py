"""split_url: hostname, pathname and query of the page URL; only http(s) pages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beacon_app.enrichment.url import MAX_PATH, split_url

CASES = [
    ("https://example.com/", False, "example.com", "/"),
    ("https://example.com", False, "example.com", "/"),
    ("https://WWW.Example.COM/Pricing/", False, "example.com", "/Pricing"),
    ("http://example.com:8080/a", False, "example.com", "/a"),
    ("https://user:pw@example.com/a", False, "example.com", "/a"),
    ("https://example.com.//a", False, "example.com", "/a"),
    ("https://blog.example.com/2024/01/post-title", False, "blog.example.com",
     "/2024/01/post-title"),
    ("https://example.com//a///b//", False, "example.com", "/a/b"),
    ("https://example.com/a/./b/../c", False, "example.com", "/a/c"),
    ("https://example.com/../../../etc/passwd", False, "example.com", "/etc/passwd"),
    ("https://example.com/%2e%2e/%2E%2E/x", False, "example.com", "/x"),
    ("https://example.com/caf%C3%A9", False, "example.com", "/café"),
    ("https://example.com/%E4%BD%A0%E5%A5%BD", False, "example.com", "/你好"),
    ("https://example.com/%ff%fe", False, "example.com", "/%FF%FE"),
    ("https://example.com/100%25", False, "example.com", "/100%"),
    ("https://example.com/50%off", False, "example.com", "/50%off"),
    ("https://example.com/%zz%4", False, "example.com", "/%zz%4"),
    ("https://example.com/a%00b%0Ac%7F", False, "example.com", "/abc"),
    ("https://example.com/a%E2%80%AEb", False, "example.com", "/ab"),
    ("https://example.com/a\tb\nc", False, "example.com", "/abc"),
    ("  https://example.com/x  ", False, "example.com", "/x"),
    ("https://example.com/docs?page=2#intro", False, "example.com", "/docs"),
    ("https://example.com/#/about", True, "example.com", "/#/about"),
    ("https://example.com/app/#/users/42?tab=x", True, "example.com", "/app#/users/42"),
    ("https://example.com/#/about", False, "example.com", "/"),
    ("https://example.com/", True, "example.com", "/"),
    ("https://bücher.de/", False, "xn--bcher-kva.de", "/"),
    ("https://xn--bcher-kva.de/", False, "xn--bcher-kva.de", "/"),
    ("http://[2001:db8::1]:8080/x", False, "2001:db8::1", "/x"),
    ("http://192.0.2.4/", False, "192.0.2.4", "/"),
    ("HTTPS://EXAMPLE.COM/A", False, "example.com", "/A"),
    ("http://localhost:3000/", False, "localhost", "/"),
]


@pytest.mark.parametrize(("url", "hash_mode", "host", "path"), CASES,
                         ids=[f"{i}-{c[0][:40]}" for i, c in enumerate(CASES)])
def test_split_url(url: str, hash_mode: bool, host: str, path: str) -> None:
    parsed = split_url(url, hash_mode)
    assert (parsed.hostname, parsed.pathname) == (host, path)


REFUSED = [
    ("javascript:alert(1)", "scheme"),
    ("data:text/html,<script>alert(1)</script>", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("ftp://example.com/", "scheme"),
    ("/relative/path", "scheme"),
    ("", "scheme"),
    ("https://", "hostname"),
    ("https:///path", "hostname"),
    ("https://exa mple.com/", "hostname"),
    ("https://exa<mple.com/", "hostname"),
    ("https://a..b/", "hostname"),
    ("http://[::1/", "parsed"),
    ("https://" + "a" * 300 + ".com/", "hostname"),
    ("\x00javascript:alert(1)", "scheme"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED, ids=[c[0][:30] or "empty" for c in REFUSED])
def test_refused_with_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        split_url(url, False)


def test_query_first_value_wins_and_never_in_path() -> None:
    parsed = split_url("https://example.com/p?utm_source=a&utm_source=b&x=&gclid=1", False)
    assert parsed.query == {"utm_source": "a", "x": "", "gclid": "1"}
    assert "?" not in parsed.pathname


def test_hash_route_query_is_read_but_page_query_wins() -> None:
    parsed = split_url("https://example.com/?utm_source=a#/r?utm_source=b&utm_medium=c", True)
    assert parsed.query == {"utm_source": "a", "utm_medium": "c"}


def test_path_is_capped() -> None:
    parsed = split_url("https://example.com/" + "a/" * 5000, False)
    assert len(parsed.pathname) == MAX_PATH


def test_huge_query_is_bounded() -> None:
    parsed = split_url("https://example.com/?" + "&".join(f"k{i}=v" for i in range(5000)), False)
    assert 0 < len(parsed.query) <= 100


@given(st.text(max_size=400), st.booleans())
def test_never_raises_anything_but_value_error(text: str, hash_mode: bool) -> None:
    for url in (text, "https://example.com/" + text):
        try:
            parsed = split_url(url, hash_mode)
        except ValueError:
            continue
        assert parsed.pathname.startswith("/") and len(parsed.pathname) <= MAX_PATH
        assert not any(ord(c) < 32 or c == "\x7f" for c in parsed.pathname + parsed.hostname)
