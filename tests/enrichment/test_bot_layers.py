"""Each bot layer on its own, with real user agents (taken from the public lists and
the operators' published agents), and the category of each kind of bot."""

from __future__ import annotations

import re

import pytest

from beacon_app.enrichment import bot_lists, bot_signals
from beacon_app.enrichment.bot_category import categorise, family_name, product_family
from beacon_app.enrichment.bot_patterns import PatternSet, required_words, split_alternatives
from beacon_app.enrichment.bots import UA_LAYERS, BotDetector, classify_user_agent
from shared.core.bot_categories import BotCategory
from shared.core.records import DropReason

C = BotCategory
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


# --- the prefilter --------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "words"), [
    (r"Googlebot\/", {"googlebot/"}),
    (r"(?:BuiltWith|BW/)", {"builtwith", "bw/"}),      # re's parser factors out the "B"
    (r"[wW]get", {"get"}),
    (r"^Mozilla/5\.0 \(compatible; (?:Dormouse|Jaunt)/",
     {"mozilla/5.0 (compatible; dormouse", "mozilla/5.0 (compatible; jaunt"}),
    (r"a|bcd", None),                                   # "a" is too short to prefilter
    (r"\d+bot", {"bot"}),
], ids=["literal", "factored-branch", "class-then-word", "longest-run", "short", "suffix"])
def test_required_words(pattern: str, words: set[str] | None) -> None:
    assert required_words(pattern, re.IGNORECASE) == words


def test_split_alternatives_keeps_groups_classes_and_escapes_whole() -> None:
    assert split_alternatives(r"a|b(c|d)|[|x]|e\|f") == ["a", "b(c|d)", "[|x]", r"e\|f"]


def test_prefiltered_list_answers_like_trying_every_regex() -> None:
    # The prefilter may only skip regexes that cannot match: compare with brute force.
    listed = bot_lists.crawler_user_agents()
    sample = [CHROME, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
              "Wget/1.21.4", "facebookexternalhit/1.1", "Mozilla/5.0 (compatible; MJ12bot/v1.4.8)",
              "python-requests/2.32.3", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101"
              " Firefox/125.0", "Screaming Frog SEO Spider/19.4", "Feedly/1.0"]
    for ua in sample:
        brute = next((rule.value for rule in listed.patterns.rules if rule.regex.search(ua)),
                     None)
        found = listed.patterns.first(ua)
        assert (found[0] if found else None) == brute, ua


def test_pattern_set_returns_the_first_rule_in_list_order() -> None:
    rules = PatternSet([("GPTBot", 0, "first"), ("Bot", re.IGNORECASE, "second")])
    assert rules.first("GPTBot/1.2")[0] == "first"           # type: ignore[index]
    assert rules.first("SomeBot/1.0")[0] == "second"         # type: ignore[index]
    assert rules.first(CHROME) is None


# --- the maintained lists, each on its own ---------------------------------------------

@pytest.mark.parametrize(("source", "ua", "family"), [
    ("matomo", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
               "Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)", "Perplexity-User"),
    ("matomo", "meta-externalagent/1.1", "Meta-ExternalAgent"),
    ("matomo", "l9explore/1.2.2", "l9explore"),
    ("matomo", "Mozilla/5.0 (compatible; Cloudflare-Traffic-Manager/1.0; "
               "+https://www.cloudflare.com/traffic-manager/; pool-id: 1)",
     "Cloudflare Traffic Manager"),
    ("crawler_user_agents", "Viber", "Viber"),
    ("crawler_user_agents", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                            "Gecko) Chrome/134.0.6998.35 Safari/537.36 (Checkly, "
                            "https://www.checklyhq.com)", "Checkly"),
    ("crawler_user_agents", "Lemmy/0.19.8; +https://leminal.space", "Lemmy"),
    ("crawlerdetect", "Mozilla/5.0 (compatible; Googlebot/2.1; "
                      "+http://www.google.com/bot.html)", "Googlebot"),
    ("crawlerdetect", "Go-http-client/2.0", "Go-http-client"),
], ids=["matomo-perplexity", "matomo-meta", "matomo-l9explore", "matomo-cloudflare",
        "cua-viber", "cua-checkly", "cua-lemmy", "cd-googlebot", "cd-go"])
def test_each_list_names_the_agent(source: str, ua: str, family: str) -> None:
    found = bot_lists.SOURCES[source]().match(ua)
    assert found is not None and found.family == family and found.source == source


@pytest.mark.parametrize("source", list(bot_lists.SOURCES))
def test_no_list_takes_a_device_model_or_smart_tv_for_a_bot(source: str) -> None:
    # Vendors name devices "XBot Senior", "HTC Butterfly", "Spider 8": the lists match
    # those words, so the model in an Android comment and a TV's HbbTV comment are masked.
    for ua in (
        "Mozilla/5.0 (Linux; Android 8.1.0; XBot_Senior Build/O11019) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/65.0.3325.109 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 4.2.2; HTC Butterfly Build/JDQ39) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/31.0.1650.59 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; Spider 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/87.0.4280.88 Safari/537.36 HbbTV/1.6.1 (+DRM; LGE/KTC/BOTECH; 58BSE9503; "
        "WEBOS22 04.42.26; W22_K8LP;)",
    ):
        assert bot_lists.SOURCES[source]().match(ua) is None, ua


def test_an_agent_name_inside_the_android_comment_still_counts() -> None:
    ua = ("Mozilla/5.0 (Linux; Android 8.0; Pixel 2 Build/OPD3.170816.012; Storebot-Google/1.0)"
          " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36")
    assert classify_user_agent(ua) is not None


# --- the generic signals -----------------------------------------------------------------

def test_automation_markers() -> None:
    found = bot_signals.automation_marker(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36")
    assert found == bot_signals.Signal("HeadlessChrome", C.AUTOMATION)
    assert bot_signals.automation_marker(CHROME) is None


@pytest.mark.parametrize("ua", [
    "Mozilla/5.0 (compatible; NewFetcher/0.3; +https://fetcher.example.org/about)",
    "SiteSnapshot/2.0 (contact: ops@snapshots.example.net)",
    "Mozilla/5.0 (compatible; Yeti-like indexer; www.example-search.com)",
], ids=["url", "e-mail", "www"])
def test_a_contact_in_the_agent_is_a_bot(ua: str) -> None:
    assert bot_signals.contact_in_agent(ua) is not None


@pytest.mark.parametrize(("ua", "family"), [
    ("python-requests/2.32.3", "python-requests"),
    ("Go-http-client/1.1", "Go-http-client"),
    ("curl/8.4.0", "curl"),
    ("okhttp/4.12.0", "okhttp"),
    ("Apache-HttpClient/4.5.14 (Java/17.0.2)", "Apache-HttpClient"),
    ("node-fetch", "node-fetch"),
    ("Ruby", "Ruby"),
])
def test_library_defaults(ua: str, family: str) -> None:
    assert bot_signals.library_default(ua) == bot_signals.Signal(family, C.HTTP_LIBRARY)


@pytest.mark.parametrize("ua", [
    "Mozilla/5.0 (compatible; Dormouse/1.0)",
    "Mozilla/5.0 Keydrop",
    "FastDAST",
    "SomeNewAgent/3.1 (linux-gnu)",
])
def test_no_browser_engine_is_a_program(ua: str) -> None:
    assert bot_signals.no_browser_engine(ua) is not None


@pytest.mark.parametrize("ua", [
    CHROME,
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)",   # an app's events
    "MyShop/5.2 CFNetwork/1490.0.4 Darwin/23.2.0",
    "Lynx/2.9.0dev.12 libwww-FM/2.14 SSL-MM/1.4.1 GNUTLS/3.7.8",
    "Nokia6300/2.0 (05.00) Profile/MIDP-2.0 Configuration/CLDC-1.1",
], ids=["chrome", "dalvik-app", "ios-app", "lynx", "feature-phone"])
def test_people_have_an_engine_or_a_platform(ua: str) -> None:
    assert bot_signals.no_browser_engine(ua) is None
    assert bot_signals.library_default(ua) is None


# --- categories, one real agent each -------------------------------------------------------

CATEGORY_CASES = [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     C.SEARCH_CRAWLER, "Googlebot"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
     C.SEARCH_CRAWLER, "BingBot"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
     "+https://openai.com/gptbot)", C.AI_CRAWLER, "GPTBot"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
     "+claudebot@anthropic.com)", C.AI_CRAWLER, "ClaudeBot"),
    ("anthropic-ai", C.AI_CRAWLER, "Anthropic AI"),
    ("cohere-ai", C.AI_CRAWLER, "Cohere AI"),
    ("meta-externalads", C.AI_CRAWLER, "Meta-ExternalAds"),
    ("Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"
     " (compatible; Bytespider; spider-feedback@bytedance.com)", C.AI_CRAWLER, "Bytespider"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; "
     "+https://openai.com/bot", C.AI_ASSISTANT, "ChatGPT-User"),
    ("Claude-User (claude-code/2.1.86; +https://support.anthropic.com/)", C.AI_ASSISTANT,
     "Claude-User"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Gemini-Deep-Research; "
     "+https://gemini.google/overview/deep-research/) Chrome/135.0.0.0 Safari/537.36",
     C.AI_ASSISTANT, "Gemini-Deep-Research"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", C.SEO_MARKETING,
     "aHrefs Bot"),
    ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
     C.SEO_MARKETING, "SemrushBot"),
    ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", C.MONITOR,
     "UptimeRobot"),
    ("Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; AppInsights)", C.MONITOR,
     "AppInsights"),
    ("Google-Safety", C.MONITOR, "Google-Safety"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
     C.LINK_PREVIEW, "Facebook Crawler"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", C.LINK_PREVIEW, "Slackbot"),
    ("Viber", C.LINK_PREVIEW, "Viber"),
    ("Friendica 'The Tazmans Flax-lily' 2019.01-1293; https://hoyer.xyz", C.LINK_PREVIEW,
     "Friendica"),
    ("FeedlyBot/1.0 (http://feedly.com)", C.FEED_READER, "Feedly"),
    ("NextCloud-News/1.0", C.FEED_READER, "NextCloud"),
    ("l9explore/1.2.2", C.SCANNER, "l9explore"),
    ("Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", C.SCANNER,
     "CensysInspect"),
    ("python-requests/2.32.3", C.HTTP_LIBRARY, "python-requests"),
    ("curl/8.4.0", C.HTTP_LIBRARY, "curl"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/131.0.0.0 Safari/537.36", C.AUTOMATION, "HeadlessChrome"),
    ("Mozilla/5.0 (compatible; Dormouse/1.0)", C.OTHER, "Dormouse"),
]


@pytest.mark.parametrize(("ua", "category", "family"), CATEGORY_CASES,
                         ids=[f"{c.value}-{f}" for _, c, f in CATEGORY_CASES])
def test_category_and_family(ua: str, category: BotCategory, family: str) -> None:
    verdict = BotDetector().detect(ua, False, "drop")
    assert verdict is not None
    assert (verdict.label.category, verdict.label.family) == (category, family)
    expected = DropReason.AUTOMATION if category is C.AUTOMATION else DropReason.BOT
    assert verdict.reason is expected


def test_every_category_has_a_real_agent_above() -> None:
    assert {c for _, c, _ in CATEGORY_CASES} == set(BotCategory)


def test_ai_agents_outrank_a_lists_label() -> None:
    # Matomo files ChatGPT-User under "Crawler" in places; an assistant it stays.
    assert categorise("ChatGPT-User/1.0", "Crawler") is C.AI_ASSISTANT
    assert categorise("GPTBot/1.2", "Search bot") is C.AI_CRAWLER
    assert categorise("SomeFeedThing/1.0", "Feed Fetcher") is C.FEED_READER


def test_family_names_are_short_and_carry_no_version() -> None:
    assert family_name(" GPTBot/1.2; ") == "GPTBot"
    assert product_family("Mozilla/5.0 (compatible; Dormouse/1.0)") == "Dormouse"
    assert product_family("SomeTool/3.1 (linux)") == "SomeTool"
    assert len(family_name("x" * 500)) == 60


def test_layers_run_in_order_and_the_first_answer_decides() -> None:
    names = [layer.__name__ for layer in UA_LAYERS]
    assert names == ["automation_marker", "matomo", "crawler_user_agents", "crawlerdetect",
                     "contact_in_agent", "library_default", "no_browser_engine"]
    verdict = classify_user_agent("python-requests/2.32.3")
    assert verdict is not None and verdict.layer == "crawler_user_agents"
    only_signals = tuple(layer for layer in UA_LAYERS if layer.__name__ == "library_default")
    verdict = classify_user_agent("python-requests/2.32.3", only_signals)
    assert verdict is not None and verdict.layer == "library_default"
