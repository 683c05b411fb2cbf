"""Enrichment step: referrer URL -> stored referrer, named source and acquisition channel.

The source comes from utm_source when the page URL carries one (mapped to a known name
where possible), else from the referrer host. The channel follows the rules Plausible
and GA4 use: paid before organic, search/social/video/email by source category and
utm_medium. A referrer from the site itself is internal: nothing is stored for it and
the visit counts as Direct, unless the page URL carries campaign parameters.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from beacon_app.enrichment import referrer_sources as data
from beacon_app.enrichment.campaign import Campaign
from beacon_app.enrichment.text import clean_value, strip_unsafe
from beacon_app.enrichment.url import MAX_PATH, normalise_host

MAX_SOURCE = 200
CHANNELS = ("Cross-network", "Paid Search", "Paid Social", "Paid Video", "Display",
            "Paid Other", "Organic Search", "Organic Social", "Organic Video", "Email",
            "Affiliates", "Referral", "Direct")
_PAID_MEDIUM = re.compile(r"^(?:.*cp.*|ppc|retargeting|paid.*)$")
_DISPLAY_MEDIUMS = frozenset(("display", "banner", "expandable", "interstitial", "cpm"))
_SOCIAL_MEDIUMS = frozenset(("social", "social-network", "social-media", "sm",
                             "social network", "social media"))
_EMAIL_MEDIUMS = frozenset(("email", "e-mail", "e_mail", "e mail", "newsletter"))
# Auto-tagged ad clicks: which platform the id belongs to and which paid channel it means.
# fbclid has no channel: Facebook adds it to organic outbound links as well.
_CLICK_IDS: dict[str, tuple[str, str]] = {
    "gclid": ("Google", "Paid Search"), "gbraid": ("Google", "Paid Search"),
    "wbraid": ("Google", "Paid Search"), "dclid": ("Google", "Display"),
    "msclkid": ("Bing", "Paid Search"), "yclid": ("Yandex", "Paid Search"),
    "fbclid": ("Facebook", ""), "ttclid": ("TikTok", "Paid Social"),
    "twclid": ("X", "Paid Social"), "li_fat_id": ("LinkedIn", "Paid Social"),
    "epik": ("Pinterest", "Paid Social"), "rdt_cid": ("Reddit", "Paid Social"),
    "sccid": ("Snapchat", "Paid Social"),
}


@dataclass(frozen=True)
class ReferrerInfo:
    referrer: str   # scheme://host/path of an external referrer, else ""
    source: str     # "Google", "Hacker News", "example.org", "" for direct
    channel: str    # one of CHANNELS


def source_for_host(host: str) -> str:
    """The named source of a (normalised) host, or the host itself when unknown."""
    labels = host.split(".")
    for start in range(len(labels) - 1):
        name = data.SOURCES.get(".".join(labels[start:]))
        if name:
            return name
    for pattern, name in data.FAMILIES:
        if pattern.search(host):
            return name
    return "Mastodon" if data.FEDIVERSE.match(host) else host


def source_for_utm(value: str) -> str:
    """utm_source mapped to a known name (case-insensitive), else the value as given."""
    key = value.strip().lower()
    if key in data.UTM_ALIASES:
        return data.UTM_ALIASES[key]
    try:
        host = normalise_host(key.split("://", 1)[-1].split("/", 1)[0])
    except ValueError:
        return value
    named = source_for_host(host)
    return named if named != host else value


def _parse(referrer: str) -> tuple[str, str, str]:
    """(cleaned referrer, host, source) or ("", "", "") when it is no usable URL."""
    text = strip_unsafe(referrer[:8192]).strip()
    try:
        parts = urlsplit(text)
        raw_host = parts.hostname or ""
    except ValueError:
        return "", "", ""
    scheme = parts.scheme.lower()
    if scheme == "android-app":
        package = clean_value(parts.netloc.lower(), MAX_SOURCE)
        source = data.ANDROID_APPS.get(package, package)
        return (f"android-app://{package}", package, source) if package else ("", "", "")
    if scheme not in ("http", "https"):
        return "", "", ""
    try:
        host = normalise_host(raw_host)
    except ValueError:
        return "", "", ""
    shown_host = raw_host.lower().rstrip(".") if raw_host.isascii() else host
    cleaned = f"{scheme}://{shown_host}{parts.path or '/'}"[:MAX_PATH]
    return cleaned, host, source_for_host(host)


def is_internal(host: str, page_hostname: str, site_hostnames: Collection[str]) -> bool:
    """True when `host` is the page's host, a site hostname or a subdomain of one."""
    for own in (page_hostname, *site_hostnames):
        own = own.lower().removeprefix("www.")
        if own and (host == own or host.endswith("." + own)):
            return True
    return False


def channel(source: str, camp: Campaign) -> str:
    """The acquisition channel of a visit from `source` with campaign `camp`."""
    medium, category = camp.utm_medium.lower(), data.CATEGORIES.get(source, "")
    if medium == "cross-network" or "cross-network" in camp.utm_campaign.lower():
        return "Cross-network"
    click_channel = _CLICK_IDS.get(camp.click_id_kind, ("", ""))[1]
    paid = bool(_PAID_MEDIUM.match(medium)) or bool(click_channel)
    if paid and category == data.SEARCH:
        return "Paid Search"
    if paid and category == data.SOCIAL:
        return "Paid Social"
    if paid and category == data.VIDEO:
        return "Paid Video"
    if click_channel:
        return click_channel
    return _unpaid_channel(source, category, medium, paid)


def _unpaid_channel(source: str, category: str, medium: str, paid: bool) -> str:
    if medium in _DISPLAY_MEDIUMS:
        return "Display"
    if paid:
        return "Paid Other"
    if category == data.SEARCH or medium == "organic":
        return "Organic Search"
    if category == data.SOCIAL or medium in _SOCIAL_MEDIUMS:
        return "Organic Social"
    if category == data.VIDEO or "video" in medium:
        return "Organic Video"
    if category == data.EMAIL or medium in _EMAIL_MEDIUMS or "newsletter" in source.lower():
        return "Email"
    if medium == "affiliate":
        return "Affiliates"
    return "Referral" if source or medium else "Direct"


def classify_referrer(referrer: str, page_hostname: str, site_hostnames: Collection[str],
                      camp: Campaign) -> ReferrerInfo:
    """Clean the referrer and name where the visit came from and through which channel."""
    cleaned, host, source = _parse(referrer)
    if host and is_internal(host, page_hostname, site_hostnames):
        cleaned, source = "", ""
        if not camp.tagged:
            return ReferrerInfo("", "", "Direct")
    if camp.utm_source:
        source = source_for_utm(camp.utm_source)
    elif not source and camp.click_id_kind in _CLICK_IDS:
        source = _CLICK_IDS[camp.click_id_kind][0]
    source = clean_value(source, MAX_SOURCE)
    return ReferrerInfo(cleaned, source, channel(source, camp))
