"""Enrichment step: drop hits from crawlers, AI agents, HTTP libraries and automated
browsers, and say which kind and which agent it was.

The user agent goes through layers, cheapest and most specific first; the first that
recognises a bot decides:
1. automation markers (headless browsers, WebDriver) - `DropReason.AUTOMATION`;
2. the maintained lists from PyPI packages (bot_lists.py): Matomo device-detector, the
   public crawler list, CrawlerDetect;
3. generic signals (bot_signals.py): a URL or e-mail address, an HTTP library's
   default, no browser engine token.
The verdict - drop reason, category, agent family - is cached per user agent string,
so the layers run once per distinct agent, not once per hit. The request-header check
of the pixel and 204 endpoints is a separate step (browser_headers.py): it looks at
the request, not the user agent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from beacon_app.enrichment import bot_lists, bot_signals
from beacon_app.enrichment.bot_category import categorise
from shared.core.bot_categories import BotCategory, BotLabel
from shared.core.records import DropReason

_MAX_UA = 1024  # longer strings are cut before matching; the patterns never need more


@dataclass(frozen=True)
class BotVerdict:
    reason: DropReason
    label: BotLabel
    layer: str       # which layer decided (for the benchmark and debugging)


WEBDRIVER = BotVerdict(DropReason.AUTOMATION, BotLabel(BotCategory.AUTOMATION, "WebDriver"),
                       "webdriver_flag")

UaLayer = Callable[[str], "BotVerdict | None"]


def _signal_layer(name: str, check: Callable[[str], bot_signals.Signal | None]) -> UaLayer:
    def layer(user_agent: str) -> BotVerdict | None:
        found = check(user_agent)
        if found is None:
            return None
        reason = (DropReason.AUTOMATION if found.category is BotCategory.AUTOMATION
                  else DropReason.BOT)
        return BotVerdict(reason, BotLabel(found.category, found.family), name)
    layer.__name__ = name
    return layer


def _list_layer(name: str, load: Callable[[], bot_lists.BotList]) -> UaLayer:
    def layer(user_agent: str) -> BotVerdict | None:
        found = load().match(user_agent)
        if found is None:
            return None
        category = categorise(user_agent, found.label)
        reason = DropReason.AUTOMATION if category is BotCategory.AUTOMATION else DropReason.BOT
        return BotVerdict(reason, BotLabel(category, found.family), name)
    layer.__name__ = name
    return layer


# In order: the first layer that answers decides.
UA_LAYERS: tuple[UaLayer, ...] = (
    _signal_layer("automation_marker", bot_signals.automation_marker),
    *(_list_layer(name, load) for name, load in bot_lists.SOURCES.items()),
    _signal_layer("contact_in_agent", bot_signals.contact_in_agent),
    _signal_layer("library_default", bot_signals.library_default),
    _signal_layer("no_browser_engine", bot_signals.no_browser_engine),
)


def classify_user_agent(user_agent: str,
                        layers: tuple[UaLayer, ...] = UA_LAYERS) -> BotVerdict | None:
    """The first verdict of `layers` (uncached; the benchmark passes subsets)."""
    for layer in layers:
        verdict = layer(user_agent)
        if verdict is not None:
            return verdict
    return None


@lru_cache(maxsize=10_000)
def _cached_verdict(user_agent: str) -> BotVerdict | None:
    return classify_user_agent(user_agent)


def warm_up() -> None:
    """Load every list now (at start-up, not on the first hit)."""
    for load in bot_lists.SOURCES.values():
        load()


class BotDetector:
    """Classifies a hit's User-Agent; thread-safe (no per-call state), results cached."""

    def __init__(self) -> None:
        warm_up()   # ~1-2 s once per process, before the first hit rather than during it

    def detect(self, user_agent: str, webdriver: bool,
               empty_ua_policy: str) -> BotVerdict | None:
        """Why and as whom this client is dropped, or None for a person's browser.

        `empty_ua_policy` is the BEACON_EMPTY_UA_POLICY setting: "drop" or "keep".
        """
        if webdriver:
            return WEBDRIVER
        user_agent = user_agent.strip()[:_MAX_UA]
        if not user_agent:
            if empty_ua_policy != "drop":
                return None
            return BotVerdict(DropReason.EMPTY_USER_AGENT,
                              BotLabel(BotCategory.OTHER, "No user agent"), "empty")
        return _cached_verdict(user_agent)

    def classify(self, user_agent: str, webdriver: bool,
                 empty_ua_policy: str) -> DropReason | None:
        """The drop reason only (see `detect`)."""
        verdict = self.detect(user_agent, webdriver, empty_ua_policy)
        return verdict.reason if verdict else None

    @staticmethod
    def cache_info() -> functools._CacheInfo:
        """Hit/miss counters of the shared cache (for metrics and tests)."""
        return _cached_verdict.cache_info()
