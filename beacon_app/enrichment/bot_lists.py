"""Enrichment layers: the maintained bot lists that ship in PyPI packages.

- `matomo`: Matomo device-detector's bots.yml (package `device-detector`): ~840 regexes,
  each with a name and a category.
- `crawler_user_agents`: the public crawler list (package `crawler-user-agents`):
  ~1,500 regexes with tags.
- `crawlerdetect`: the CrawlerDetect list (package `crawlerdetect`): ~1,400 regexes,
  no names or categories, and an exclusion list of browser tokens that look like bots.

Each is a `BotList` with one job: given a user agent, the first entry that matches as a
`ListMatch` (family and the source's label), or None. Data is read from the installed
packages once per process; nothing is fetched at run time.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml_rs

from beacon_app.enrichment.bot_category import GENERIC_MATCHES, family_name, product_family
from beacon_app.enrichment.bot_patterns import PatternSet, split_alternatives


@dataclass(frozen=True)
class ListMatch:
    family: str
    label: str | None     # the source's own category label, when it has one
    source: str


def _package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it (device_detector's
    import builds its whole parser)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(package)
    return Path(next(iter(spec.submodule_search_locations)))


# Matomo bounds every regex so that it starts a word (its own parser does the same).
_MATOMO_BOUND = r"(?:^|[^A-Z0-9_-]|[^A-Z0-9-]_|sprd-|MZ-)(?:{})"


# The device model in an Android browser's platform comment ("Linux; Android 13; Spider 8
# Build/...") is any word a vendor chose - "XBot Senior", "HTC Butterfly", "Zeus 10" -
# and the lists' short patterns match it. Only the comment's "Name/1.0" products stay
# (Google's agents put theirs there: "Storebot-Google/1.0").
_ANDROID_COMMENT = re.compile(r"^(Mozilla/5\.0 \()((?![^()]*compatible)[^()]*Android[^()]*)\)")
_PRODUCT = re.compile(r"^\s*[A-Za-z][\w.-]*/\d")


def _without_device_model(user_agent: str) -> str:
    m = _ANDROID_COMMENT.match(user_agent)
    if m is None:
        return user_agent
    kept = [part for part in m.group(2).split(";")
            if _PRODUCT.match(part) and not part.strip().startswith("Build/")]
    return f"{m.group(1)}Linux; Android; {'; '.join(kept)}){user_agent[m.end():]}"


# Browsers whose own name the lists take for a bot's (seen in the browser corpora).
_BROWSER_TOKENS = re.compile(
    r"SogouMobileBrowser|SogouMSE|QQDownload \d+|Fluid/[\d.]+|libwww/[\d.]+_Mosaic|"
    r"AmigaVoyager|Webster Pro|com\.yandex\.zen|yandexstation|Cronet/|Banca Caboto|"
    r"libwww-FM/[\d.]+|amaya/[\d.]+ libwww/[\d.]+|Sonic Slack_SSB/[\d.]+|Slack/[\d.]+|"
    r"HbbTV/[\d.]+ \([^()]*\)")   # a smart TV's vendor and model ("LGE/KTC/BOTECH")


class BotList:
    """One source's regexes, matched through the prefilter of `PatternSet`."""

    def __init__(self, name: str, rules: Iterable[tuple[str, int, tuple[str, str | None]]],
                 exclusions: re.Pattern[str] | None = None) -> None:
        self.name = name
        self.patterns = PatternSet(rules)
        self.exclusions = exclusions

    def __len__(self) -> int:
        return len(self.patterns.rules)

    def match(self, user_agent: str) -> ListMatch | None:
        # The masks below only take text away, so a user agent that matches nothing as it
        # is (nearly every browser's) needs none of them: they cost more than the list.
        if self.patterns.first(user_agent) is None:
            return None
        user_agent = _BROWSER_TOKENS.sub("", _without_device_model(user_agent))
        if self.exclusions is not None:
            user_agent = self.exclusions.sub("", user_agent)
        found = self.patterns.first(user_agent)
        if found is None:
            return None
        (name, label), m = found
        family = family_name(_substitute(name, m) if name else m.group(m.lastindex or 0))
        if family.lower() in GENERIC_MATCHES or len(family) < 3:
            family = product_family(user_agent)   # matched by a kind ("bot"), not a name
        return ListMatch(family, label, self.name)


def _substitute(name: str, m: re.Match[str]) -> str:
    """Matomo names may refer to groups: '\\g<1>' or '$1'."""
    def group(ref: re.Match[str]) -> str:
        index = int(ref.group(1) or ref.group(2))
        return (m.group(index) or "") if index <= (m.re.groups or 0) else ""
    return re.sub(r"\\g<(\d+)>|\$(\d)", group, name)


@cache
def matomo() -> BotList:
    path = _package_dir("device_detector") / "regexes" / "upstream" / "bots.yml"
    data: Any = yaml_rs.loads(path.read_text(encoding="utf-8"))   # a list of entries
    rules: list[tuple[str, int, tuple[str, str | None]]] = []
    for entry in data:
        name, label = str(entry.get("name") or ""), entry.get("category") or None
        # An entry whose name uses no group is split into its alternatives (prefilter).
        parts = [str(entry["regex"])] if "$" in name or "\\g<" in name else \
            split_alternatives(entry["regex"])
        # A part anchored at the start needs no bound (and is only tried there then).
        rules += [(part if part.startswith("^") else _MATOMO_BOUND.format(part),
                   int(re.IGNORECASE), (name, label)) for part in parts]
    return BotList("matomo", rules)


@cache
def crawler_user_agents() -> BotList:
    path = _package_dir("crawleruseragents") / "crawler-user-agents.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    # Case-sensitive, as the list's own matchers use it.
    rules = [(str(e["pattern"]), 0, ("", (e.get("tags") or [None])[0])) for e in entries]
    return BotList("crawler_user_agents", rules)


@cache
def crawlerdetect() -> BotList:
    from crawlerdetect.crawlerdetect import get_compiled_exclusions_regex
    from crawlerdetect.providers.crawlers import data as patterns

    rules = [(str(p), int(re.IGNORECASE), ("", None)) for p in patterns]
    return BotList("crawlerdetect", rules, get_compiled_exclusions_regex())


SOURCES = {"matomo": matomo, "crawler_user_agents": crawler_user_agents,
           "crawlerdetect": crawlerdetect}
