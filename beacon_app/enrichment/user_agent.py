"""Enrichment step: User-Agent -> browser, OS (with versions) and device type.

Parsing uses ua-parser with its bundled rules (ua-parser-builtins) and the native
ua-parser-rs resolver when installed. Names are normalised so one browser is one row
in the dashboard: mobile variants fold into their desktop name ("Mobile Safari" and
"Chrome Mobile iOS" are "Safari" and "Chrome"); "Mac OS X" is "macOS". Brave does not
identify itself in its UA and is counted as Chrome. iPads since iPadOS 13 send a
desktop macOS UA by default and therefore count as desktop macOS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ua_parser

from beacon_app.enrichment.text import clean_value

_MAX_UA = 1024  # ua-parser's regexes get slow on huge inputs; no real UA is this long
_BROWSERS = {
    "Mobile Safari": "Safari", "Mobile Safari UI/WKWebView": "Safari",
    "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView", "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox", "Edge Mobile": "Edge", "Opera Mobile": "Opera",
    "Amazon Silk": "Silk", "Other": "",
}
_OSES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS", "Other": ""}
# Where the minor version says something (14.4, 17.4, 10.15): keep major.minor.
_MINOR_OSES = frozenset(("macOS", "iOS", "Android"))
_DESKTOP_OSES = frozenset(("Windows", "macOS", "Linux", "Ubuntu", "Debian", "Fedora",
                           "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD", "Arch Linux",
                           "Linux Mint", "openSUSE", "Red Hat", "CentOS", "Solaris"))
_MOBILE_OSES = frozenset(("Windows Phone", "KaiOS", "BlackBerry OS", "Symbian OS",
                          "Firefox OS", "Tizen"))
_TABLET_HINTS = re.compile(r"iPad|Tablet|Kindle|Silk/|PlayBook|Nexus (?:7|9|10)\b")
_MOBILE_HINTS = re.compile(r"Mobi|iPhone|iPod|Phone")


@dataclass(frozen=True)
class Agent:
    browser: str = ""
    browser_version: str = ""   # major only
    os: str = ""
    os_version: str = ""        # major, or major.minor for macOS / iOS / Android
    device: str = ""            # "desktop", "mobile", "tablet", or "" when unknown


def _device(ua: str, os_name: str, device_family: str) -> str:
    if device_family == "Spider":
        return ""
    if _TABLET_HINTS.search(ua) or device_family in ("iPad", "Kindle"):
        return "tablet"
    if os_name == "Android":  # Android tablets are the ones without "Mobile"
        return "mobile" if "Mobile" in ua else "tablet"
    if _MOBILE_HINTS.search(ua) or os_name in _MOBILE_OSES or os_name == "iOS":
        return "mobile"
    return "desktop" if os_name in _DESKTOP_OSES else ""


def _version(major: str | None, minor: str | None, with_minor: bool) -> str:
    if not major:
        return ""
    text = f"{major}.{minor}" if with_minor and minor else major
    return clean_value(text, 40)


@lru_cache(maxsize=20_000)
def parse_user_agent(ua: str) -> Agent:
    """Browser, OS and device of a User-Agent string; empty fields when unknown."""
    text = ua[:_MAX_UA]
    result = ua_parser.parse(text)
    browser = os_name = device_family = ""
    browser_version = os_version = ""
    if result.user_agent:
        family = result.user_agent.family
        browser = clean_value(_BROWSERS.get(family, family), 100)
        browser_version = _version(result.user_agent.major, None, False) if browser else ""
    if result.os:
        os_name = clean_value(_OSES.get(result.os.family, result.os.family), 100)
        if os_name:
            os_version = _version(result.os.major, result.os.minor, os_name in _MINOR_OSES)
    if result.device:
        device_family = result.device.family
    return Agent(browser, browser_version, os_name, os_version,
                 _device(text, os_name, device_family))
