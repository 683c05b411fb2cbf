"""Does a site's page carry the tracking snippet for that site? The dashboard's
installation check fetches the page the user names (on the site's own domain only) and
looks for the beacon's script tag with the right data-domain.

Only the site's own hostname (or a subdomain of it) is fetched, over http(s), with a
short timeout and a size cap: the check is not a way to make the server request any
address.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

MAX_BYTES = 2_000_000
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class SnippetCheck:
    ok: bool
    message: str


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append({k: v or "" for k, v in attrs})


def page_url_allowed(url: str, domain: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and (host == domain or host.endswith("." + domain))


def find_snippet(html: str, domain: str) -> SnippetCheck:
    """Whether `html` loads the beacon's script for `domain`."""
    parser = _Scripts()
    parser.feed(html)
    ours = [a for a in parser.found if a.get("src", "").split("?")[0].endswith("script.js")
            and "data-domain" in a]
    for attrs in ours:
        domains = [d.strip().lower() for d in attrs["data-domain"].split(",")]
        if domain in domains:
            return SnippetCheck(True, f"The page loads {attrs['src']} for {domain}.")
    if ours:
        return SnippetCheck(False, "The page has a tracking script, but its data-domain "
                                   f"is {ours[0]['data-domain']!r}, not {domain!r}.")
    return SnippetCheck(False, "The page has no tracking script: paste the snippet into "
                               "its <head>.")


def check_page(url: str, domain: str, timeout: float = TIMEOUT_SECONDS) -> SnippetCheck:
    """Fetch `url` (a page of `domain`) and look for the snippet."""
    if not page_url_allowed(url, domain):
        return SnippetCheck(False, f"Give an http(s) address on {domain}.")
    request = urllib.request.Request(  # noqa: S310 - http(s) on the site's domain only
        url, headers={"User-Agent": "Beacon Analytics snippet check", "Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - checked
            body = resp.read(MAX_BYTES)
            charset = resp.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        return SnippetCheck(False, f"The page answered HTTP {exc.code}.")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return SnippetCheck(False, f"The page could not be fetched: {reason}.")
    return find_snippet(body.decode(charset, "replace"), domain)
