"""Enrichment step: campaign fields (utm_*) and ad click ids from the page's query.

`ref` and `source` are common hand-written stand-ins for utm_source (`?ref=producthunt`).
Parameter names match case-insensitively; values are trimmed, cleaned and capped.
"""

from __future__ import annotations

from dataclasses import dataclass

from beacon_app.enrichment.text import clean_value

MAX_VALUE = 300
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Ad platforms append these to the landing URL; their presence says "this was an ad
# click" (except fbclid, which Facebook adds to organic outbound links too).
CLICK_IDS = ("gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "twclid",
             "li_fat_id", "yclid", "epik", "rdt_cid", "sccid")
_SOURCE_FALLBACKS = ("ref", "source")


@dataclass(frozen=True)
class Campaign:
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    click_id: bool = False
    click_id_kind: str = ""   # the lower-cased parameter name, e.g. "gclid"

    @property
    def tagged(self) -> bool:
        """True when the URL carried any campaign information at all."""
        return self.click_id or any(getattr(self, name) for name in UTM_FIELDS)


def campaign(query: dict[str, str]) -> Campaign:
    """The campaign a page URL's query describes; all fields empty when it has none."""
    lowered: dict[str, str] = {}
    for key, value in query.items():
        lowered.setdefault(key.strip().lower(), value)
    values = {name: clean_value(lowered.get(name, ""), MAX_VALUE) for name in UTM_FIELDS}
    for fallback in _SOURCE_FALLBACKS:
        if not values["utm_source"]:
            values["utm_source"] = clean_value(lowered.get(fallback, ""), MAX_VALUE)
    kind = next((name for name in CLICK_IDS if clean_value(lowered.get(name, ""), 1)), "")
    return Campaign(**values, click_id=bool(kind), click_id_kind=kind)
