"""Demo data, stage "seed": the catalogues the demo generator samples from.

Shares are rough public figures for a European/US tech site (search engines, browser
and OS market shares, a long tail of pages). Each table is a tuple of rows plus a weight
column, so the generator draws an index once and looks every attribute up from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Source:
    """One traffic source: what the referrer and campaign enrichment would have stored."""

    weight: float
    referrer: str = ""
    referrer_source: str = ""
    channel: str = "Direct"
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    click_id: bool = False


SOURCES: tuple[Source, ...] = (
    Source(30.0),
    Source(31.0, "https://www.google.com/", "Google", "Organic Search"),
    Source(5.0, "https://www.bing.com/", "Bing", "Organic Search"),
    Source(3.0, "https://duckduckgo.com/", "DuckDuckGo", "Organic Search"),
    Source(0.8, "https://www.ecosia.org/", "Ecosia", "Organic Search"),
    Source(3.0, "https://www.google.com/", "Google", "Paid Search", "google", "cpc",
           "spring_sale", "ad_a", True),
    Source(1.0, "https://www.bing.com/", "Bing", "Paid Search", "bing", "cpc", "spring_sale",
           "ad_b", True),
    Source(4.0, "https://l.facebook.com/", "Facebook", "Organic Social"),
    Source(2.0, "https://t.co/", "X", "Organic Social"),
    Source(2.0, "https://www.linkedin.com/", "LinkedIn", "Organic Social"),
    Source(3.0, "https://www.reddit.com/", "Reddit", "Organic Social"),
    Source(2.0, "https://news.ycombinator.com/", "Hacker News", "Organic Social"),
    Source(1.2, "https://l.facebook.com/", "Facebook", "Paid Social", "facebook",
           "paid_social", "launch_week", "carousel"),
    Source(3.5, "", "Newsletter", "Email", "newsletter", "email", "weekly_digest"),
    Source(1.0, "", "Newsletter", "Email", "newsletter", "email", "product_update"),
    Source(2.5, "https://github.com/", "GitHub", "Referral"),
    Source(1.5, "https://stackoverflow.com/", "Stack Overflow", "Referral"),
    Source(1.0, "https://dev.to/", "dev.to", "Referral"),
    Source(1.0, "https://medium.com/", "Medium", "Organic Social"),
    Source(0.5, "https://www.youtube.com/", "YouTube", "Organic Video"),
)

# (country, region: English subdivision name as the geo step stores it, city, language, weight)
GEO: tuple[tuple[str, str, str, str, float], ...] = (
    ("US", "California", "San Francisco", "en", 6.0), ("US", "New York", "New York", "en", 6.0),
    ("US", "Texas", "Austin", "en", 3.0), ("US", "Washington", "Seattle", "en", 3.0),
    ("US", "Illinois", "Chicago", "en", 2.0),
    ("DE", "Berlin", "Berlin", "de", 5.0), ("DE", "Bavaria", "Munich", "de", 3.5),
    ("DE", "Hamburg", "Hamburg", "de", 2.5), ("DE", "North Rhine-Westphalia", "Cologne", "de", 2.0),
    ("GB", "England", "London", "en", 5.0), ("GB", "England", "Manchester", "en", 1.5),
    ("GB", "Scotland", "Edinburgh", "en", 1.0),
    ("FR", "Île-de-France", "Paris", "fr", 4.0), ("FR", "Auvergne-Rhône-Alpes", "Lyon", "fr", 1.5),
    ("NL", "North Holland", "Amsterdam", "nl", 3.0), ("ES", "Madrid", "Madrid", "es", 2.0),
    ("ES", "Catalonia", "Barcelona", "es", 1.5), ("IT", "Lombardy", "Milan", "it", 2.0),
    ("PL", "Mazovia", "Warsaw", "pl", 2.0), ("SE", "Stockholm", "Stockholm", "sv", 1.5),
    ("CH", "Zurich", "Zurich", "de", 1.5), ("AT", "Vienna", "Vienna", "de", 1.5),
    ("IN", "Karnataka", "Bengaluru", "en", 4.0), ("IN", "Maharashtra", "Mumbai", "en", 2.0),
    ("CA", "Ontario", "Toronto", "en", 2.5), ("CA", "British Columbia", "Vancouver", "en", 1.0),
    ("BR", "São Paulo", "São Paulo", "pt", 2.5), ("JP", "Tokyo", "Tokyo", "ja", 2.0),
    ("AU", "New South Wales", "Sydney", "en", 1.5),
    ("SG", "Central Singapore", "Singapore", "en", 1.0),
    ("", "", "", "en", 0.8),  # address not in the geo database
)

# (device, os, os_version, browser, browser_version, weight in %)
USER_AGENTS: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("desktop", "Windows", "10", "Chrome", "126", 18.0),
    ("desktop", "Windows", "11", "Chrome", "127", 8.0),
    ("desktop", "Windows", "10", "Edge", "126", 7.0),
    ("desktop", "Windows", "11", "Firefox", "128", 3.5),
    ("desktop", "macOS", "14.5", "Safari", "17", 6.5),
    ("desktop", "macOS", "14.5", "Chrome", "127", 6.0),
    ("desktop", "macOS", "13.6", "Firefox", "128", 1.5),
    ("desktop", "Linux", "", "Firefox", "128", 2.0),
    ("desktop", "Linux", "", "Chrome", "127", 1.5),
    ("desktop", "ChromeOS", "126", "Chrome", "126", 1.0),
    ("mobile", "iOS", "17.5", "Safari", "17", 16.0),
    ("mobile", "iOS", "17.5", "Chrome", "127", 2.5),
    ("mobile", "Android", "14", "Chrome", "127", 16.0),
    ("mobile", "Android", "13", "Samsung Internet", "25", 3.5),
    ("mobile", "Android", "14", "Firefox", "128", 0.8),
    ("tablet", "iOS", "17.5", "Safari", "17", 2.5),
    ("tablet", "Android", "13", "Chrome", "127", 1.0),
)

_SECTIONS = ("blog", "docs", "guides", "changelog", "integrations")
_TOPICS = ("privacy", "setup", "dashboard", "goals", "funnels", "api", "export", "sqlite",
           "postgres", "tracking", "campaigns", "self-hosting", "cookies", "gdpr", "docker")


def page_paths(count: int = 1500) -> list[str]:
    """Page paths in popularity order: landing pages first, then a long tail."""
    head = ["/", "/pricing", "/features", "/docs", "/blog", "/signup", "/login", "/about",
            "/contact", "/download", "/docs/getting-started", "/checkout"]
    tail = []
    for i in range(count - len(head)):
        section = _SECTIONS[i % len(_SECTIONS)]
        topic = _TOPICS[(i // len(_SECTIONS)) % len(_TOPICS)]
        tail.append(f"/{section}/{topic}-{i // (len(_SECTIONS) * len(_TOPICS)) + 1}")
    return head + tail


def zipf_weights(count: int, exponent: float = 1.07) -> np.ndarray:
    """Normalised Zipf weights 1/rank^s: a few pages get most views, most get a few."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def normalised(weights: list[float] | tuple[float, ...]) -> np.ndarray:
    array = np.asarray(weights, dtype=np.float64)
    return array / array.sum()


# Relative traffic by local hour of day (nights low, office hours and evening high).
HOURLY = normalised([
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4.2, 5.6, 6.2, 6.3,
    5.9, 6.1, 6.4, 6.2, 5.8, 5.1, 4.6, 4.5, 4.4, 3.8, 2.7, 1.7,
])
# Relative traffic by weekday, Monday first (peaks Tue-Wed, weekend dip).
WEEKDAY = (1.05, 1.12, 1.10, 1.04, 0.92, 0.60, 0.64)

PLANS = ("free", "pro", "team")
PLAN_WEIGHTS = normalised([0.62, 0.3, 0.08])
FILES = ("beacon-1.4.2.tar.gz", "beacon-1.4.2.zip", "whitepaper-privacy.pdf",
         "pricing-sheet.pdf")
FILE_WEIGHTS = normalised([0.4, 0.15, 0.3, 0.15])
OUTBOUND = ("https://github.com/beacon-analytics/beacon", "https://twitter.com/beacon",
            "https://www.linkedin.com/company/beacon")
OUTBOUND_WEIGHTS = normalised([0.6, 0.2, 0.2])
PLAN_PRICES = {"free": 0.0, "pro": 19.0, "team": 79.0}

# The goals the demo registers for its sites: (kind, page_path, event_name, display name,
# revenue currency). Purchases are paid in EUR and USD: the EUR goal reports the EUR
# amounts and lists the USD ones apart.
GOALS: tuple[tuple[str, str | None, str | None, str, str | None], ...] = (
    ("event", None, "Signup", "Signup", None),
    ("event", None, "Download", "Download", None),
    ("event", None, "Purchase", "Purchase", "EUR"),
    ("page", "/pricing", None, "Visit /pricing", None),
)
