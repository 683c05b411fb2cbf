"""BotDetector: crawlers, HTTP clients and automation are dropped; browsers are not."""

from __future__ import annotations

import pytest

from beacon_app.enrichment.bots import BotDetector
from shared.core.records import DropReason

from .uas import BROWSERS

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "curl/8.4.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "Python-urllib/3.11",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "axios/1.6.7",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "okhttp/4.12.0",
    "Java/17.0.2",
    "Apache-HttpClient/4.5.14 (Java/17.0.2)",
    "PostmanRuntime/7.36.1",
    "Scrapy/2.11.0 (+https://scrapy.org)",
    "libwww-perl/6.72",
    "aiohttp/3.9.1",
    "python-httpx/0.27.0",
    "httpx/0.27.0",
    "Deno/1.40.0",
    "Bun/1.0.25",
]
AUTOMATION = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Puppeteer/21.0",
    "Mozilla/5.0 (X11; Linux x86_64) Playwright/1.45",
    "Mozilla/5.0 (Windows NT 10.0) Selenium/4.16",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/24.0.0",
]


@pytest.fixture(scope="module")
def detector() -> BotDetector:
    return BotDetector()


@pytest.mark.parametrize("ua", BOTS, ids=[u[:40] for u in BOTS])
def test_crawlers_and_clients(detector: BotDetector, ua: str) -> None:
    assert detector.classify(ua, False, "drop") is DropReason.BOT


@pytest.mark.parametrize("ua", AUTOMATION, ids=[u[-40:] for u in AUTOMATION])
def test_automation(detector: BotDetector, ua: str) -> None:
    assert detector.classify(ua, False, "drop") is DropReason.AUTOMATION


@pytest.mark.parametrize("ua", list(BROWSERS), ids=list(BROWSERS.values()))
def test_browsers_pass(detector: BotDetector, ua: str) -> None:
    assert detector.classify(ua, False, "drop") is None


def test_webdriver_flag_is_automation(detector: BotDetector) -> None:
    assert detector.classify(next(iter(BROWSERS)), True, "keep") is DropReason.AUTOMATION


@pytest.mark.parametrize(("ua", "policy", "expected"), [
    ("", "drop", DropReason.EMPTY_USER_AGENT),
    ("   ", "drop", DropReason.EMPTY_USER_AGENT),
    ("", "keep", None),
], ids=["empty-drop", "blank-drop", "empty-keep"])
def test_empty_user_agent_policy(detector: BotDetector, ua: str, policy: str,
                                 expected: DropReason | None) -> None:
    assert detector.classify(ua, False, policy) is expected


def test_repeated_user_agents_hit_the_cache(detector: BotDetector) -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:999.0) Gecko/20100101 Firefox/999.0 cache-test"
    detector.classify(ua, False, "drop")
    hits = detector.cache_info().hits
    detector.classify(ua, False, "drop")
    assert detector.cache_info().hits == hits + 1


def test_huge_user_agent_is_bounded(detector: BotDetector) -> None:
    browser = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Safari/537.36 ")
    assert detector.classify(browser + "x" * 100_000, False, "drop") is None
