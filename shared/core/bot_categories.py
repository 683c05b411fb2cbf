"""What kind of automated client a dropped hit came from: the categories of the
"Bots & AI agents" counts (written by the beacon, read by the stats API and the dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BotCategory(StrEnum):
    """The kind of automated client; the value is what the database and the API carry."""

    SEARCH_CRAWLER = "search_crawler"
    AI_CRAWLER = "ai_crawler"            # collects pages for model training or an AI index
    AI_ASSISTANT = "ai_assistant"        # fetches a page because a person asked an assistant
    SEO_MARKETING = "seo_marketing"
    MONITOR = "monitor"                  # uptime, performance and health checks
    LINK_PREVIEW = "link_preview"        # chat apps and social networks unfurling a link
    FEED_READER = "feed_reader"
    SCANNER = "scanner"                  # security and vulnerability scanners
    HTTP_LIBRARY = "http_library"        # curl, python-requests, Go's net/http ...
    AUTOMATION = "automation"            # headless browsers, WebDriver
    OTHER = "other_bot"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[BotCategory, str] = {
    BotCategory.SEARCH_CRAWLER: "Search crawler",
    BotCategory.AI_CRAWLER: "AI crawler",
    BotCategory.AI_ASSISTANT: "AI assistant",
    BotCategory.SEO_MARKETING: "SEO / marketing",
    BotCategory.MONITOR: "Monitor / uptime",
    BotCategory.LINK_PREVIEW: "Link preview",
    BotCategory.FEED_READER: "Feed reader",
    BotCategory.SCANNER: "Scanner",
    BotCategory.HTTP_LIBRARY: "HTTP library",
    BotCategory.AUTOMATION: "Automation",
    BotCategory.OTHER: "Other bot",
}

MAX_FAMILY = 60   # the agent family column's width; longer names are cut


@dataclass(frozen=True)
class BotLabel:
    """Who a dropped hit came from: a category and an agent family ("GPTBot"), never the
    user agent string itself."""

    category: BotCategory
    family: str
