"""classify_referrer: stored referrer, named source and channel."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beacon_app.enrichment.campaign import campaign
from beacon_app.enrichment.referrer import CHANNELS, MAX_SOURCE, ReferrerInfo, classify_referrer
from beacon_app.enrichment.url import MAX_PATH

SITE = ("example.com", "example.org")


def _classify(referrer: str, query: dict[str, str] | None = None,
              page: str = "example.com") -> ReferrerInfo:
    return classify_referrer(referrer, page, SITE, campaign(query or {}))


SOURCES = [
    ("https://www.google.com/", "Google", "Organic Search"),
    ("https://www.google.co.uk/search?q=beacon", "Google", "Organic Search"),
    ("https://www.google.de/", "Google", "Organic Search"),
    ("https://www.google.com.br/", "Google", "Organic Search"),
    ("https://news.google.com/articles/x", "Google", "Organic Search"),
    ("https://www.bing.com/search?q=x", "Bing", "Organic Search"),
    ("https://cn.bing.com/", "Bing", "Organic Search"),
    ("https://duckduckgo.com/", "DuckDuckGo", "Organic Search"),
    ("https://html.duckduckgo.com/html/", "DuckDuckGo", "Organic Search"),
    ("https://www.ecosia.org/search?q=x", "Ecosia", "Organic Search"),
    ("https://search.yahoo.com/search?p=x", "Yahoo", "Organic Search"),
    ("https://uk.search.yahoo.com/", "Yahoo", "Organic Search"),
    ("https://yandex.ru/search/?text=x", "Yandex", "Organic Search"),
    ("https://yandex.com.tr/", "Yandex", "Organic Search"),
    ("https://www.baidu.com/link?url=x", "Baidu", "Organic Search"),
    ("https://search.brave.com/search?q=x", "Brave Search", "Organic Search"),
    ("https://www.qwant.com/?q=x", "Qwant", "Organic Search"),
    ("https://www.startpage.com/", "Startpage", "Organic Search"),
    ("https://kagi.com/search?q=x", "Kagi", "Organic Search"),
    ("https://www.facebook.com/", "Facebook", "Organic Social"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com", "Facebook", "Organic Social"),
    ("https://m.facebook.com/", "Facebook", "Organic Social"),
    ("https://fb.me/abc", "Facebook", "Organic Social"),
    ("https://l.instagram.com/?u=x", "Instagram", "Organic Social"),
    ("https://t.co/AbCdEf", "X", "Organic Social"),
    ("https://x.com/someone/status/1", "X", "Organic Social"),
    ("https://twitter.com/", "X", "Organic Social"),
    ("https://www.linkedin.com/feed/", "LinkedIn", "Organic Social"),
    ("https://lnkd.in/abc", "LinkedIn", "Organic Social"),
    ("https://old.reddit.com/r/selfhosted/", "Reddit", "Organic Social"),
    ("https://news.ycombinator.com/item?id=1", "Hacker News", "Organic Social"),
    ("https://www.pinterest.co.uk/pin/1/", "Pinterest", "Organic Social"),
    ("https://www.tiktok.com/@x", "TikTok", "Organic Social"),
    ("https://mastodon.social/@x", "Mastodon", "Organic Social"),
    ("https://mastodon.example.net/@x", "Mastodon", "Organic Social"),
    ("https://www.threads.net/@x", "Threads", "Organic Social"),
    ("https://bsky.app/profile/x", "Bluesky", "Organic Social"),
    ("https://www.youtube.com/watch?v=x", "YouTube", "Organic Video"),
    ("https://youtu.be/x", "YouTube", "Organic Video"),
    ("https://mail.google.com/mail/u/0/", "Gmail", "Email"),
    ("https://outlook.live.com/mail/0/", "Outlook", "Email"),
    ("https://someone.substack.com/p/post", "Substack", "Email"),
    ("https://example.us1.list-manage.com/track/click?u=1", "Mailchimp", "Email"),
    ("https://github.com/org/repo", "GitHub", "Referral"),
    ("https://gitlab.com/org/repo", "GitLab", "Referral"),
    ("https://stackoverflow.com/questions/1", "Stack Overflow", "Referral"),
    ("https://en.wikipedia.org/wiki/Web_analytics", "Wikipedia", "Referral"),
    ("https://en.m.wikipedia.org/wiki/Web_analytics", "Wikipedia", "Referral"),
    ("https://chatgpt.com/", "ChatGPT", "Referral"),
    ("https://www.perplexity.ai/search/x", "Perplexity", "Referral"),
    ("https://www.some-blog.net/post/1", "some-blog.net", "Referral"),
    ("https://notgoogle.com/", "notgoogle.com", "Referral"),
    ("https://google.evil.com/", "google.evil.com", "Referral"),
    ("https://facebook.com.evil.net/", "facebook.com.evil.net", "Referral"),
    ("android-app://com.google.android.gm/", "Gmail", "Email"),
    ("android-app://com.google.android.googlequicksearchbox/", "Google", "Organic Search"),
    ("android-app://org.example.reader/", "org.example.reader", "Referral"),
]


@pytest.mark.parametrize(("referrer", "source", "channel"), SOURCES,
                         ids=[c[0][8:50] for c in SOURCES])
def test_known_sources(referrer: str, source: str, channel: str) -> None:
    info = _classify(referrer)
    assert (info.source, info.channel) == (source, channel)


CLEANED = [
    ("https://www.google.com/search?q=secret#frag", "https://www.google.com/search"),
    ("https://WWW.Other.org:8443/p/q?x=1", "https://www.other.org/p/q"),
    ("https://other.org", "https://other.org/"),
    ("https://user:pw@other.org/a", "https://other.org/a"),
    ("https://other.org/a%00b\x00c", "https://other.org/a%00bc"),
    ("https://bücher.de/x", "https://xn--bcher-kva.de/x"),
    ("javascript:alert(1)", ""),
    ("data:text/html,x", ""),
    ("not a url", ""),
    ("https://", ""),
    ("https://exa mple.com/", ""),
    ("", ""),
]


@pytest.mark.parametrize(("referrer", "stored"), CLEANED, ids=[c[0][:40] or "empty"
                                                               for c in CLEANED])
def test_stored_referrer(referrer: str, stored: str) -> None:
    assert _classify(referrer).referrer == stored


def test_stored_referrer_is_capped() -> None:
    assert len(_classify("https://other.org/" + "a" * 5000).referrer) == MAX_PATH


INTERNAL = [
    ("https://example.com/pricing", "example.com"),
    ("https://www.example.com/", "example.com"),
    ("https://blog.example.com/", "example.com"),
    ("https://example.org/", "example.com"),
    ("https://docs.example.org/", "example.com"),
    ("https://shop.example.net/", "shop.example.net"),
]


@pytest.mark.parametrize(("referrer", "page"), INTERNAL, ids=[c[0] for c in INTERNAL])
def test_self_referral_is_direct(referrer: str, page: str) -> None:
    assert _classify(referrer, page=page) == ReferrerInfo("", "", "Direct")


def test_self_referral_with_utm_keeps_the_campaign() -> None:
    info = _classify("https://example.com/", {"utm_source": "newsletter", "utm_medium": "email"})
    assert info == ReferrerInfo("", "Newsletter", "Email")


def test_lookalike_is_not_internal() -> None:
    assert _classify("https://notexample.com/").source == "notexample.com"


CAMPAIGNS = [
    ("", {}, "", "Direct"),
    ("", {"utm_source": "google", "utm_medium": "cpc"}, "Google", "Paid Search"),
    ("https://www.google.com/", {"gclid": "x"}, "Google", "Paid Search"),
    ("", {"gclid": "x"}, "Google", "Paid Search"),
    ("https://www.bing.com/", {"msclkid": "x"}, "Bing", "Paid Search"),
    ("", {"utm_source": "Bing", "utm_medium": "ppc"}, "Bing", "Paid Search"),
    ("https://l.facebook.com/", {"fbclid": "x"}, "Facebook", "Organic Social"),
    ("", {"fbclid": "x"}, "Facebook", "Organic Social"),
    ("", {"utm_source": "fb", "utm_medium": "paid_social"}, "Facebook", "Paid Social"),
    ("", {"utm_source": "facebook", "utm_medium": "cpc"}, "Facebook", "Paid Social"),
    ("", {"ttclid": "x"}, "TikTok", "Paid Social"),
    ("", {"utm_source": "youtube", "utm_medium": "cpv"}, "YouTube", "Paid Video"),
    ("", {"utm_source": "newsletter"}, "Newsletter", "Email"),
    ("", {"utm_source": "Newsletter", "utm_medium": "e-mail"}, "Newsletter", "Email"),
    ("", {"utm_source": "weekly-digest", "utm_medium": "email"}, "weekly-digest", "Email"),
    ("", {"utm_source": "partner", "utm_medium": "affiliate"}, "partner", "Affiliates"),
    ("", {"utm_source": "adnet", "utm_medium": "display"}, "adnet", "Display"),
    ("", {"utm_source": "adnet", "utm_medium": "banner"}, "adnet", "Display"),
    ("", {"utm_source": "pmax", "utm_medium": "cross-network"}, "pmax", "Cross-network"),
    ("", {"utm_source": "adnet", "utm_medium": "paid"}, "adnet", "Paid Other"),
    ("", {"utm_source": "adnet", "utm_medium": "cpc"}, "adnet", "Paid Other"),
    ("", {"utm_source": "partner"}, "partner", "Referral"),
    ("", {"utm_medium": "organic", "utm_source": "somesearch"}, "somesearch", "Organic Search"),
    ("", {"utm_medium": "social", "utm_source": "forum"}, "forum", "Organic Social"),
    ("", {"ref": "producthunt"}, "Product Hunt", "Organic Social"),
    ("", {"utm_source": "HN"}, "Hacker News", "Organic Social"),
    ("", {"utm_source": "chatgpt.com"}, "ChatGPT", "Referral"),
    ("", {"utm_source": "DuckDuckGo"}, "DuckDuckGo", "Organic Search"),
    ("https://news.ycombinator.com/", {"utm_source": "newsletter"}, "Newsletter", "Email"),
]


@pytest.mark.parametrize(("referrer", "query", "source", "channel"), CAMPAIGNS,
                         ids=[f"{i}-{c[3]}" for i, c in enumerate(CAMPAIGNS)])
def test_campaign_channels(referrer: str, query: dict[str, str], source: str,
                           channel: str) -> None:
    info = _classify(referrer, query)
    assert (info.source, info.channel) == (source, channel)


def test_source_is_capped() -> None:
    assert len(_classify("", {"utm_source": "s" * 1000}).source) <= MAX_SOURCE


@given(st.text(max_size=300), st.dictionaries(st.sampled_from(
    ["utm_source", "utm_medium", "utm_campaign", "gclid", "ref"]), st.text(max_size=50)))
def test_never_raises(text: str, query: dict[str, str]) -> None:
    for referrer in (text, "https://" + text, "android-app://" + text):
        info = classify_referrer(referrer, "example.com", SITE, campaign(query))
        assert info.channel in CHANNELS
        assert len(info.referrer) <= MAX_PATH and len(info.source) <= MAX_SOURCE
