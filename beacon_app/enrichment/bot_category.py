"""Enrichment helper: the category and agent family of a user agent already known to be
a bot.

Sources label their entries differently (Matomo's "Search bot", the crawler list's
"search-engine" tag, nothing at all in CrawlerDetect); `SOURCE_CATEGORIES` maps each
label to a `BotCategory`. The AI agents come first because the lists lag behind them
and mislabel them ("Crawler" for an assistant fetching a page a person asked about),
and site owners want that distinction most; then a source's own label; then keywords
of the user agent; else "other bot".
"""

from __future__ import annotations

import re

from beacon_app.enrichment.bot_patterns import PatternSet
from shared.core.bot_categories import MAX_FAMILY, BotCategory

C = BotCategory

# Labels of Matomo device-detector's bots.yml and of the crawler-user-agents tags.
SOURCE_CATEGORIES: dict[str, BotCategory] = {
    "Search bot": C.SEARCH_CRAWLER, "Search tools": C.SEO_MARKETING,
    "AI Data Scraper": C.AI_CRAWLER, "AI Search Crawler": C.AI_CRAWLER,
    "AI Agent": C.AI_ASSISTANT, "AI Assistant": C.AI_ASSISTANT,
    "Feed Fetcher": C.FEED_READER, "Feed Parser": C.FEED_READER, "Feed Reader": C.FEED_READER,
    "Read-it-later Service": C.FEED_READER,
    "Site Monitor": C.MONITOR, "Network Monitor": C.MONITOR, "Service Agent": C.MONITOR,
    "Benchmark": C.MONITOR,
    "Security Checker": C.SCANNER, "Security search bot": C.SCANNER,
    "Social Media Agent": C.LINK_PREVIEW,
    "search-engine": C.SEARCH_CRAWLER, "ai-crawler": C.AI_CRAWLER, "seo": C.SEO_MARKETING,
    "advertising": C.SEO_MARKETING, "monitoring": C.MONITOR,
    "social-preview": C.LINK_PREVIEW, "feed-reader": C.FEED_READER, "scanner": C.SCANNER,
    "http-library": C.HTTP_LIBRARY, "browser-automation": C.AUTOMATION,
}

# Assistants fetch one page because a person asked; crawlers collect pages in bulk.
# Both lists name the published user-agent tokens of the operators.
_AI_ASSISTANT = PatternSet.of_alternatives(
    r"ChatGPT-User|ChatGPT Agent|Claude-User|Claude-Web|Perplexity-User|MistralAI-User|"
    r"Gemini-Deep-Research|Google-Agent|Google-NotebookLM|Google-GeminiNotebook|"
    r"DuckAssistBot|meta-externalfetcher|Operator|Manus-User|Devin|Kagi-Assistant|"
    r"Cohere-command|YouBot-User|Phind-User|NovaAct|Comet(?:Agent|Assistant)",
    re.IGNORECASE)
_AI_CRAWLER = PatternSet.of_alternatives(
    r"GPTBot|OAI-SearchBot|ClaudeBot|Claude-SearchBot|anthropic-ai|cohere-ai|"
    r"cohere-training-data-crawler|PerplexityBot|meta-externalagent|meta-externalads|"
    r"Meta-WebIndexer|FacebookBot|Bytespider|TikTokSpider|CCBot|Amazonbot|Applebot-Extended|"
    r"Google-Extended|Google-CloudVertexBot|GoogleOther|AI2Bot|Ai2Bot-Dolma|Diffbot|"
    r"ImagesiftBot|img2dataset|Kangaroo Bot|PanguBot|PetalBot|Timpibot|YouBot|"
    r"omgili|Webzio-Extended|FirecrawlAgent|Crawl4AI|DeepSeekBot|QualifiedBot|"
    r"LAIONDownloader|ExaSearchBot|PhindBot|bedrockbot|Cloudflare-AutoRAG|"
    r"SBIntuitionsBot|ShapBot|Thinkbot|TerraCotta|Andibot|Anomura|aiHitBot|Cotoyogi|"
    r"VelenPublicWebCrawler|LinerBot|wpbot|Brightbot|iaskspider|GeedoBot|Ai2Bot",
    re.IGNORECASE)
_KEYWORDS: tuple[tuple[PatternSet[None], BotCategory], ...] = tuple(
    (PatternSet.of_alternatives(pattern, re.IGNORECASE), category) for pattern, category in (
        (r"headless|selenium|webdriver|puppeteer|playwright|phantomjs|slimerjs|"
         r"electron/.*\bautomation|cypress|htmlunit|jsdom", C.AUTOMATION),
        (r"scan|nmap|nikto|nuclei|sqlmap|zgrab|masscan|dast|l9explore|l9tcpid|"
         r"censys|shodan|expanse|securitytrails|internet-?measurement|zmeu|"
         r"probe|vuln|pentest|burp|acunetix|openvas|wpscan", C.SCANNER),
        (r"monitor|uptime|pingdom|statuscake|site24x7|checkly|healthcheck|health-check|"
         r"newrelic|datadog|appinsights|synthetic|traffic-?manager|cloudfront|"
         r"status(?:page|hub)|better ?uptime|freshping|hetrix|uptimerobot|"
         r"google-safety|catchpoint|dynatrace|gtmetrix|lighthouse|pagespeed", C.MONITOR),
        (r"feed|rss|atom|podcast|newsblur|inoreader|feedly|tt-rss|miniflux|"
         r"nextcloud-news|netnewswire|reeder|freshrss|flipboard", C.FEED_READER),
        (r"preview|embed|unfurl|facebookexternalhit|facebookcatalog|whatsapp|telegram|"
         r"slack|discord|skype|viber|twitterbot|linkedinbot|pinterest|redditbot|"
         r"mastodon|pleroma|akkoma|misskey|lemmy|friendica|bluesky|cardyb|"
         r"opengraph|iframely|embedly|snapchat|vkshare|line-poker|kakaotalk-scrap|"
         r"zoom|teams|google-pagerenderer|mattermost|rocket\.chat|signal", C.LINK_PREVIEW),
        (r"seo|semrush|ahrefs|majestic|mj12|dotbot|rogerbot|screaming ?frog|"
         r"serpstat|dataforseo|sistrix|seokicks|blexbot|barkrowler|linkdex|"
         r"siteaudit|backlink|adsbot|mediapartners|adbeat|marketing|"
         r"brandwatch|awario|mention|meltwater|similarweb", C.SEO_MARKETING),
        (r"^(?:curl|wget|python|java|go-http-client|okhttp|axios|node|undici|"
         r"got|php|guzzle|libwww|lwp|ruby|faraday|rest-client|httpie|http\.rb|"
         r"apache-httpclient|aiohttp|httpx|requests|urllib|dart|reqwest|hyper|"
         r"postman|insomnia|powershell|winhttp|cfnetwork|dalvik|deno|bun|"
         r"scrapy|colly|hackney|mechanize|k6|libcurl|fasthttp)\b", C.HTTP_LIBRARY),
        (r"python-requests|python-urllib|go-http-client|okhttp|aiohttp|httpx|"
         r"node-fetch|axios|apache-httpclient|libwww-perl|guzzlehttp|"
         r"java/\d|curl/|wget/|scrapy|http_request2|winhttp", C.HTTP_LIBRARY),
        (r"search|spider|crawl|index|yandex|baidu|bing|google|duckduck|yeti|naver|"
         r"seznam|qwant|mojeek|sogou|coccoc|applebot|petal|archive", C.SEARCH_CRAWLER),
    ))


def categorise(user_agent: str, source_label: str | None) -> BotCategory:
    """The category of a bot's user agent; `source_label` is the list's own label."""
    if _AI_ASSISTANT.search(user_agent):
        return C.AI_ASSISTANT
    if _AI_CRAWLER.search(user_agent):
        return C.AI_CRAWLER
    if source_label and source_label in SOURCE_CATEGORIES:
        return SOURCE_CATEGORIES[source_label]
    for pattern, category in _KEYWORDS:
        if pattern.search(user_agent):
            return category
    return C.OTHER


_TRIM = " /;:,()+-_.\"'[]{}"
_VERSIONED = re.compile(r"([A-Za-z][\w.\-]*)/v?\d")
_WORD = re.compile(r"[A-Za-z][\w.\-]*")
# Tokens every browser-like agent carries: never the name of the agent that sent it.
_COMMON = frozenset({
    "mozilla", "applewebkit", "chrome", "safari", "version", "gecko", "firefox", "mobile",
    "edg", "edge", "opr", "khtml", "like", "compatible", "windows", "linux", "android",
    "iphone", "macintosh", "intel", "mac", "x11", "u", "en", "en-us", "wow64", "win64", "x64",
    "trident", "msie", "cpu", "os", "nt", "ubuntu", "x86_64", "chromium", "headless",
})
# Words a list matches by that are kinds, not names ("bot" in "Googlebot").
GENERIC_MATCHES = frozenset({
    "bot", "bots", "spider", "crawler", "crawl", "robot", "fetch", "fetcher", "scan",
    "scanner", "http", "client", "agent", "preview", "monitor", "check", "checker", "feed",
    "search", "index", "indexer", "archive", "reader", "parser", "scraper", "link",
})


def family_name(text: str) -> str:
    """A short agent family from a matched name ("GPTBot/1.2" -> "GPTBot")."""
    name = text.strip(_TRIM)
    name = re.split(r"[/;(]", name, maxsplit=1)[0].strip(_TRIM)
    return name[:MAX_FAMILY] or "Unknown bot"


def product_family(user_agent: str) -> str:
    """The family of a user agent no list names: its bot-like product token, else its
    first own "Name/1.0" token, else its first own word ("Dormouse/1.0" -> "Dormouse")."""
    for token in re.findall(r"[\w.\-]*(?:bot|spider|crawler|agent|fetcher)[\w.\-]*",
                            user_agent, re.IGNORECASE):
        if len(token) > 3 and token.lower() not in GENERIC_MATCHES | {"user-agent"}:
            return family_name(token)
    for pattern in (_VERSIONED, _WORD):
        for m in pattern.finditer(user_agent):
            name = m.group(1) if m.groups() else m.group(0)
            if name.lower() not in _COMMON:
                return family_name(name)
    return "Unknown bot"
