"""Imports stage: which access-log lines are page views. A log records every request
(stylesheets, images, API calls, redirects, errors, health checks); only a successful
GET of an HTML page is a page view. Every rule can be changed from the command line,
and every line left out is counted under the rule that left it out.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from shared.imports.log_formats import LogLine

# A path whose last segment has one of these endings (or none) names a page.
PAGE_EXTENSIONS = ("", "html", "htm", "xhtml", "shtml", "php", "asp", "aspx", "jsp", "cfm")
# Paths that are never pages of a site, whatever their ending.
EXCLUDED_PATHS = ("/api/*", "/.well-known/*", "/wp-admin/*", "/wp-json/*", "/xmlrpc.php",
                  "/favicon.ico", "/robots.txt")
DEFAULT_STATUSES = "200-299,304"

_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")


class Reason:
    """Why a line is not a page view (the names the summary counts under)."""

    METHOD = "not_get"
    STATUS_REDIRECT = "redirect"
    STATUS_ERROR = "error_status"
    STATUS_OTHER = "other_status"
    ASSET = "not_a_page"
    EXCLUDED = "excluded_path"
    NOT_HTML = "not_html"
    OTHER_HOST = "other_host"


def parse_statuses(text: str) -> frozenset[int]:
    """`200-299,304` -> the set of status codes; ValueError naming the bad part."""
    codes: set[int] = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(f"status {part!r} is not a code or a range like 200-299") from None
        if not 100 <= low <= high <= 599:
            raise ValueError(f"status range {part!r} is not within 100-599")
        codes.update(range(low, high + 1))
    if not codes:
        raise ValueError("no status codes given")
    return frozenset(codes)


@dataclass(frozen=True)
class PageViewRules:
    """The adjustable definition of a page view."""

    methods: frozenset[str] = frozenset({"GET"})
    statuses: frozenset[int] = field(default_factory=lambda: parse_statuses(DEFAULT_STATUSES))
    page_extensions: frozenset[str] = frozenset(PAGE_EXTENSIONS)
    excluded_paths: tuple[str, ...] = EXCLUDED_PATHS
    included_paths: tuple[str, ...] = ()     # when set, only these paths count

    def reason_to_skip(self, line: LogLine) -> str | None:
        """None for a page view, else the reason the line is left out."""
        if line.method not in self.methods:
            return Reason.METHOD
        if line.status not in self.statuses:
            if 300 <= line.status < 400:
                return Reason.STATUS_REDIRECT
            return Reason.STATUS_ERROR if line.status >= 400 else Reason.STATUS_OTHER
        path = line.target.partition("?")[0].partition("#")[0]
        last = path.rpartition("/")[2]
        if "." in last and _extension(last) not in self.page_extensions:
            return Reason.ASSET
        if line.content_type and "html" not in line.content_type.lower():
            return Reason.NOT_HTML
        if self.included_paths and not _matcher(self.included_paths)(path):
            return Reason.EXCLUDED
        if self.excluded_paths and _matcher(self.excluded_paths)(path):
            return Reason.EXCLUDED
        return None

    def describe(self) -> dict[str, object]:
        """The rules as stored with an import (so a resumed import uses the same)."""
        return {"methods": sorted(self.methods), "statuses": _ranges(self.statuses),
                "page_extensions": sorted(self.page_extensions),
                "excluded_paths": list(self.excluded_paths),
                "included_paths": list(self.included_paths)}

    @classmethod
    def from_description(cls, data: dict[str, object]) -> PageViewRules:
        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            return tuple(str(v) for v in value) if isinstance(value, list) else ()
        return cls(methods=frozenset(strings("methods")),
                   statuses=parse_statuses(str(data.get("statuses") or DEFAULT_STATUSES)),
                   page_extensions=frozenset(strings("page_extensions")),
                   excluded_paths=strings("excluded_paths"),
                   included_paths=strings("included_paths"))


def _extension(name: str) -> str:
    m = _EXTENSION.search(name)
    return m.group(1).lower() if m else ""


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """One compiled expression for a list of path patterns (`*` matches anything, and
    `/api/*` also matches `/api` itself)."""
    parts = [fnmatch.translate(p) for p in patterns]
    parts += [fnmatch.translate(p[:-2]) for p in patterns if p.endswith("/*")]
    return re.compile("|".join(f"(?:{p})" for p in parts)).match


def _ranges(codes: frozenset[int]) -> str:
    ordered, parts = sorted(codes), []
    start = prev = ordered[0]
    for code in [*ordered[1:], None]:
        if code is not None and code == prev + 1:
            prev = code
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if code is not None:
            start = prev = code
    return ",".join(parts)
