"""campaign: utm fields and click ids from the page URL's query."""

from __future__ import annotations

import pytest

from beacon_app.enrichment.campaign import MAX_VALUE, Campaign, campaign
from beacon_app.enrichment.url import split_url


def _from_url(url: str) -> Campaign:
    return campaign(split_url(url, False).query)


CASES = [
    ("https://example.com/", Campaign()),
    ("https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale",
     Campaign("newsletter", "email", "spring_sale")),
    ("https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"
     "&utm_term=beacon+analytics&utm_content=ad1",
     Campaign("google", "cpc", "brand", "beacon analytics", "ad1")),
    ("https://example.com/?UTM_SOURCE=Twitter&Utm_Medium=Social",
     Campaign("Twitter", "Social")),
    ("https://example.com/?ref=producthunt", Campaign("producthunt")),
    ("https://example.com/?source=hn", Campaign("hn")),
    ("https://example.com/?utm_source=a&ref=b", Campaign("a")),
    ("https://example.com/?ref=&source=c", Campaign("c")),
    ("https://example.com/?utm_source=%20%20padded%20%20", Campaign("padded")),
    ("https://example.com/?utm_source=a%00b%1bc", Campaign("abc")),
    ("https://example.com/?gclid=Cj0KCQiA", Campaign(click_id=True, click_id_kind="gclid")),
    ("https://example.com/?fbclid=IwAR2x", Campaign(click_id=True, click_id_kind="fbclid")),
    ("https://example.com/?msclkid=abc&utm_source=bing&utm_medium=cpc",
     Campaign("bing", "cpc", click_id=True, click_id_kind="msclkid")),
    ("https://example.com/?ScCid=x", Campaign(click_id=True, click_id_kind="sccid")),
    ("https://example.com/?LI_FAT_ID=x", Campaign(click_id=True, click_id_kind="li_fat_id")),
    ("https://example.com/?rdt_cid=x", Campaign(click_id=True, click_id_kind="rdt_cid")),
    ("https://example.com/?gclid=", Campaign()),
    ("https://example.com/?clid=x&gclidx=y", Campaign()),
]


@pytest.mark.parametrize(("url", "expected"), CASES, ids=[c[0][20:60] or "none" for c in CASES])
def test_campaign(url: str, expected: Campaign) -> None:
    assert _from_url(url) == expected


@pytest.mark.parametrize("kind", ["gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid",
                                  "ttclid", "twclid", "li_fat_id", "yclid", "epik", "rdt_cid",
                                  "ScCid"])
def test_every_click_id_is_recognised(kind: str) -> None:
    camp = campaign({kind: "abc123"})
    assert camp.click_id and camp.click_id_kind == kind.lower()
    assert camp.tagged


def test_values_are_capped() -> None:
    camp = campaign({"utm_campaign": "x" * 10_000, "utm_term": "é" * 500})
    assert len(camp.utm_campaign) == MAX_VALUE and len(camp.utm_term) == MAX_VALUE


def test_untagged() -> None:
    assert not campaign({"page": "2"}).tagged
