"""Enrichment layers: signs of automation that no list needs to know about.

Each function looks at one thing and returns a `Signal` (family, category) or None:
- `automation_marker`: a headless browser or a WebDriver-driven one names itself;
- `contact_in_agent`: a URL or an e-mail address - crawlers leave a contact, browsers
  never do;
- `library_default`: an HTTP library's default user agent ("python-requests/2.32");
- `no_browser_engine`: a user agent without any browser engine token.
A real browser's user agent passes all four (the false-positive test sets prove it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from beacon_app.enrichment.bot_category import categorise, family_name, product_family
from beacon_app.enrichment.bot_patterns import PatternSet
from shared.core.bot_categories import BotCategory


@dataclass(frozen=True)
class Signal:
    family: str
    category: BotCategory


_AUTOMATION = PatternSet.of_alternatives(
    r"HeadlessChrome|Headless|PhantomJS|Puppeteer|Playwright|Selenium|WebDriver|SlimerJS|"
    r"\bjsdom\b|Cypress|Nightmare|HtmlUnit|Lightpanda|browserless|ScrapingBee|Splash\b",
    re.IGNORECASE)


def automation_marker(user_agent: str) -> Signal | None:
    m = _AUTOMATION.search(user_agent)
    return Signal(family_name(m.group(0)), BotCategory.AUTOMATION) if m else None


# A URL or an e-mail address anywhere in the user agent. Browsers put none there; the
# in-app browsers that add words keep to app names and versions.
_CONTACT = re.compile(
    r"https?://|www\.[a-z0-9-]+\.[a-z]{2,}|[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
    r"|\+?\s?[a-z0-9-]+\.(?:com|org|net|io|ai|dev|app|info)(?:/|\)|;|\s|$)",
    re.IGNORECASE)


# Text that every contact above contains: a cheap test before the regex.
_CONTACT_HINTS = ("http", "www.", "@", ".com", ".org", ".net", ".io", ".ai", ".dev", ".app",
                  ".info")


def contact_in_agent(user_agent: str) -> Signal | None:
    lowered = user_agent.lower()
    if not any(hint in lowered for hint in _CONTACT_HINTS) or not _CONTACT.search(user_agent):
        return None
    return Signal(product_family(user_agent), categorise(user_agent, None))


# Default user agents of HTTP clients and scripting runtimes: "name/version", maybe a
# comment, and no browser token. Listed by the name they send.
_LIBRARY = re.compile(
    r"^(?:curl|wget|python-requests|python-urllib\d?(?:\.\d+)?|python-httpx|python|"
    r"aiohttp|httpx|urllib3|requests|java|apache-httpclient|okhttp|go-http-client|"
    r"Go-http-client|axios|node-fetch|node|undici|got|deno|bun|ruby|faraday|rest-client|"
    r"http\.rb|httpie|libwww-perl|lwp-\w+|php|guzzlehttp|guzzle|dart|reqwest|hyper|"
    r"PostmanRuntime|insomnia|WindowsPowerShell|Microsoft-WinHTTP|WinHttp|"
    r"Wget|libcurl|fasthttp|colly|scrapy|hackney|mechanize|k6|"
    r"Jakarta Commons-HttpClient|HTTPClient|unirest-java|Zend_Http_Client|"
    r"Symfony HttpClient|ReactorNetty|AHC|Vert\.x-WebClient|Apache-CXF|"
    r"uptime-kuma|Typhoeus|Excon|Manticore|Embarcadero URI Client|Indy Library)"
    r"(?:[/ ]v?[\w.\-]*)?(?:\s*\(.*\))?\s*$",
    re.IGNORECASE)


def library_default(user_agent: str) -> Signal | None:
    m = _LIBRARY.match(user_agent)
    if not m:
        return None
    return Signal(family_name(user_agent.split("/", 1)[0].split(" (", 1)[0]),
                  BotCategory.HTTP_LIBRARY)


# Tokens that a person's browser or app carries: a rendering engine, a feature-phone
# browser's profile, or the platform token of a phone or computer (apps sending events
# through the Events API pass the device's Dalvik or CFNetwork agent). Without any of
# them it is a program, not a person - also with a "Mozilla/5.0" in front
# ("Mozilla/5.0 (compatible; Dormouse/1.0)").
_ENGINE = PatternSet.of_alternatives(
    r"Opera|AppleWebKit|Gecko|Trident|Presto|KHTML|MSIE|Edge?/|Chrome/|Safari/|"
    r"Firefox/|Goanna|NetFront|UCBrowser|UCWEB|UC Browser|Obigo|Dolfin|Openwave|UP\.Browser|"
    r"Profile/MIDP|Configuration/CLDC|BlackBerry|Nokia|SAMSUNG|SonyEricsson|"
    r"Teleca|Polaris|Maemo|Links|Lynx|w3m|ELinks|Dillo|NetSurf|Konqueror|Kindle|"
    r"PLAYSTATION|Nintendo|Xbox|Roku|SmartTV|Tizen|webOS|HbbTV|Dorado|Jasmine|MAUI|"
    r"SEMC-Browser|Browser/|Iceweasel|SeaMonkey|Puffin|Opera Mini|Silk|OPR/|HotJava|Mosaic|"
    r"iPhone|iPad|iPod|Android|Darwin/|CFNetwork|Dalvik|OpenHarmony|HarmonyOS|AmigaOS|"
    r"DoCoMo|KDDI|SoftBank|Vodafone|J-PHONE|Palm|Windows (?:NT|CE|Phone)|Macintosh|CrOS|"
    r"Cronet|OMI/|GOG Galaxy",
    re.IGNORECASE)


def no_browser_engine(user_agent: str) -> Signal | None:
    if _ENGINE.search(user_agent):
        return None
    return Signal(product_family(user_agent), categorise(user_agent, None))
