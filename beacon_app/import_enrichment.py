"""The beacon's enrichment offered to the importers (shared/imports): imported page views
get exactly the steps live hits get - bots and AI agents, referrer spam, source and
channel, UTM, location, browser/OS/device, the visitor hash - from one function."""

from __future__ import annotations

from beacon_app.pipeline import Enrichers, enrich_for_site
from shared.core.records import Drop, Event, RawHit
from shared.core.settings import Settings
from shared.sites import Site


class SiteEnricher:
    """`shared.imports.log_import.Enrich` for one site: loads the lookups once."""

    def __init__(self, settings: Settings, site: Site) -> None:
        self.settings, self.site = settings, site
        self.enrichers = Enrichers.load(settings)

    def __call__(self, hit: RawHit, salts: tuple[bytes, bytes | None]) -> Event | Drop:
        return enrich_for_site(hit, self.site, self.settings, self.enrichers, salts)
