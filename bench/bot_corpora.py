"""Public user-agent corpora that ship in PyPI packages, for the bot benchmark and the
false-positive tests. Read from the installed packages; nothing is downloaded.

Crawler corpora (user agent, the corpus's own category label):
- `crawler_list_examples`: the example strings of the public crawler list
  (package `crawler-user-agents`, ~2,100) - the same package is one of the beacon's
  pattern sources;
- `matomo_bot_fixtures`: Matomo device-detector's bot test fixtures (package
  `device-detector`, ~1,300) - its regexes are another pattern source.
Browser corpora (user agent strings):
- `fake_useragent_browsers`: fake-useragent's real-world browser list (~7,000 rows);
- `matomo_browser_fixtures`: every fixture of Matomo device-detector whose client is a
  browser (phones, tablets, desktops, TVs, consoles, cars, feature phones; ~30,000).
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

import yaml_rs


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations)))


def _fixtures() -> Path:
    return _package_dir("device_detector") / "tests" / "fixtures" / "upstream"


@cache
def crawler_list_examples() -> tuple[tuple[str, str], ...]:
    path = _package_dir("crawleruseragents") / "crawler-user-agents.json"
    rows = {}
    for entry in json.loads(path.read_text(encoding="utf-8")):
        tag = (entry.get("tags") or ["untagged"])[0]
        for example in entry.get("instances", []):
            rows.setdefault(example, tag)
    return tuple(rows.items())


@cache
def matomo_bot_fixtures() -> tuple[tuple[str, str], ...]:
    rows = {}
    for item in yaml_rs.loads((_fixtures() / "bots.yml").read_text(encoding="utf-8")):
        ua = str(item.get("user_agent") or "").strip()
        if ua:
            rows.setdefault(ua, str((item.get("bot") or {}).get("category") or "uncategorised"))
    return tuple(rows.items())


@cache
def fake_useragent_browsers() -> tuple[str, ...]:
    path = _package_dir("fake_useragent") / "data" / "browsers.jsonl"
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return tuple(dict.fromkeys(row["useragent"] for row in rows))


# Fixture files of other client kinds (apps, players, feed readers) and of bots.
_NOT_BROWSER_FILES = {"bots.yml", "feed_reader.yml", "mediaplayer.yml", "mobile_apps.yml",
                      "podcasting.yml", "clienthints-app.yml"}


@cache
def matomo_browser_fixtures() -> tuple[str, ...]:
    rows: dict[str, None] = {}
    for path in sorted(_fixtures().glob("*.yml")):
        if path.name in _NOT_BROWSER_FILES:
            continue
        for item in yaml_rs.loads(path.read_text(encoding="utf-8")) or []:
            client = item.get("client") or {}
            ua = str(item.get("user_agent") or "").strip()
            name = str(client.get("name") or "")
            if ua and client.get("type") == "browser" and "headless" not in name.lower():
                rows[ua] = None
    return tuple(rows)
