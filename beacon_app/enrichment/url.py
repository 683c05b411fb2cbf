"""Enrichment step: split the page URL into hostname, pathname and query.

The stored pathname is decoded, normalised and never contains the query; the query
comes back as a dict so the campaign step can read utm parameters. Only http(s) URLs
are pages; anything else (data:, javascript:, file:) is refused with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

import idna

from beacon_app.enrichment.text import strip_unsafe

MAX_PATH = 2000
MAX_HOST = 253
# Longer input is cut before parsing: nothing useful hides past this in a real page URL.
_MAX_INPUT = 16_384
_MAX_QUERY = 4096
_MAX_PARAMS = 100
_HOST_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$")
_SURROGATE = re.compile("[\udc80-\udcff]")
# The WHATWG URL parser removes tabs and newlines anywhere; browsers do, so do we.
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


@dataclass(frozen=True)
class ParsedUrl:
    hostname: str
    pathname: str
    query: dict[str, str] = field(default_factory=dict)


def normalise_host(host: str) -> str:
    """Lower-case ASCII hostname without `www.` or trailing dot; ValueError when invalid.

    Unicode names become punycode (IDNA 2008 with UTS 46 mapping) so they compare equal
    to the ASCII domains sites are registered with.
    """
    host = host.strip().lower().rstrip(".")
    if not host:
        raise ValueError("URL has no hostname")
    if ":" in host:  # IPv6 literal, brackets already removed by urlsplit
        return host
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise ValueError("hostname is not a valid internationalised name") from None
    if len(host) > MAX_HOST or not _HOST_RE.match(host) or ".." in host:
        raise ValueError("hostname contains characters a host name cannot have")
    return host.removeprefix("www.")


def _decode(part: str) -> str:
    """Percent-decode as UTF-8; bytes that are not UTF-8 stay as their %XX escape."""
    text = unquote_to_bytes(part).decode("utf-8", errors="surrogateescape")
    return strip_unsafe(_SURROGATE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", text))


def normalise_path(raw: str) -> str:
    """Decoded path with `//` collapsed, `.`/`..` resolved inside root, no trailing slash."""
    segments: list[str] = []
    for segment in _decode(raw).split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return ("/" + "/".join(segments))[:MAX_PATH]


def _query(raw: str) -> dict[str, str]:
    pairs = parse_qsl(raw[:_MAX_QUERY], keep_blank_values=True)[:_MAX_PARAMS]
    query: dict[str, str] = {}
    for key, value in pairs:
        query.setdefault(strip_unsafe(key), value)  # the first value wins
    return query


def split_url(url: str, hash_mode: bool) -> ParsedUrl:
    """Split a page URL; ValueError (with the reason) when it is not an http(s) URL."""
    text = url[:_MAX_INPUT].translate(_TAB_NEWLINE).strip(_C0_AND_SPACE)
    try:
        parts = urlsplit(text)
        hostname = parts.hostname or ""
    except ValueError as exc:
        raise ValueError(f"URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = strip_unsafe(scheme)[:20] or "none"
        raise ValueError(f"URL scheme {shown!r} is not http or https")
    pathname = normalise_path(parts.path)
    query = _query(parts.query)
    if hash_mode and parts.fragment:
        # Hash routers (`/#/about?utm_source=x`) keep their route - and its query - in
        # the fragment; the route is part of the page, its query is not.
        route, _, route_query = parts.fragment.partition("?")
        pathname = (pathname + "#" + _decode(route))[:MAX_PATH]
        for key, value in _query(route_query).items():
            query.setdefault(key, value)
    return ParsedUrl(normalise_host(hostname), pathname, query)
