"""Enrichment step: drop hits from crawlers, HTTP libraries and automated browsers.

Crawler and HTTP-client detection uses the `crawlerdetect` pattern list (maintained
upstream); `_MISSED_CLIENTS` adds the few clients it does not know. Automation
(headless browsers, WebDriver) is checked separately because it gets its own drop
reason: it is usually a test suite or a scraper, not an indexer.
"""

from __future__ import annotations

import functools
import re
from functools import lru_cache

from crawlerdetect.crawlerdetect import get_compiled_crawler_regex, get_compiled_exclusions_regex

from shared.core.records import DropReason

# Anchored at the start: these are library defaults ("httpx/0.27"), not browser tokens.
_MISSED_CLIENTS = re.compile(r"^(?:httpx|deno|bun|hackney|uptime-kuma|k6)/", re.IGNORECASE)
_AUTOMATION = re.compile(
    r"HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|WebDriver|SlimerJS|"
    r"\bjsdom\b|Cypress|Nightmare|HtmlUnit",
    re.IGNORECASE,
)
_MAX_UA = 1024  # longer strings are cut before matching; the patterns never need more


@lru_cache(maxsize=10_000)
def _classify_ua(user_agent: str) -> DropReason | None:
    if _AUTOMATION.search(user_agent):
        return DropReason.AUTOMATION
    if _MISSED_CLIENTS.search(user_agent):
        return DropReason.BOT
    stripped = get_compiled_exclusions_regex().sub("", user_agent)
    if stripped and get_compiled_crawler_regex().search(stripped):
        return DropReason.BOT
    return None


class BotDetector:
    """Classifies a hit's User-Agent; thread-safe (no per-call state), results cached."""

    def classify(self, user_agent: str, webdriver: bool,
                 empty_ua_policy: str) -> DropReason | None:
        """The drop reason for this client, or None when it looks like a person's browser.

        `empty_ua_policy` is the BEACON_EMPTY_UA_POLICY setting: "drop" or "keep".
        """
        if webdriver:
            return DropReason.AUTOMATION
        user_agent = user_agent.strip()[:_MAX_UA]
        if not user_agent:
            return DropReason.EMPTY_USER_AGENT if empty_ua_policy == "drop" else None
        return _classify_ua(user_agent)

    @staticmethod
    def cache_info() -> functools._CacheInfo:
        """Hit/miss counters of the shared cache (for metrics and tests)."""
        return _classify_ua.cache_info()
