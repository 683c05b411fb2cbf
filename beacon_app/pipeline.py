"""Enrichment pipeline: RawHit -> Event for each matching site, or a typed Drop.

`STEPS` is a tuple of small named functions; each takes (hit, event, ctx) and
returns the event (possibly changed) or a `Drop`. A new enrichment is one function
and one line in `STEPS`. Site matching runs first because every step needs the site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from beacon_app.enrichment.bots import BotDetector
from beacon_app.enrichment.browser_headers import NO_BROWSER_HEADERS
from beacon_app.enrichment.campaign import Campaign, campaign
from beacon_app.enrichment.geo import GeoLookup
from beacon_app.enrichment.language import primary_language
from beacon_app.enrichment.referrer import classify_referrer
from beacon_app.enrichment.site_search import search_term
from beacon_app.enrichment.spam import SpamList
from beacon_app.enrichment.url import ParsedUrl, normalise_host, split_url
from beacon_app.enrichment.user_agent import parse_user_agent
from beacon_app.enrichment.visitor import visitor_id
from beacon_app.payload import hostname_of
from shared.core.ids import random_id, stable_id
from shared.core.records import Drop, DropReason, Event, RawHit
from shared.core.screen_size import screen_size
from shared.core.settings import Settings
from shared.sites import Site, SiteDirectory

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")

# Pages, campaigns and referrers repeat far more than they vary: parse each once.
# (The cached values are frozen or only read, never changed by a step.)
_split_url = lru_cache(maxsize=32_768)(split_url)
_classify_referrer = lru_cache(maxsize=32_768)(classify_referrer)


@lru_cache(maxsize=8_192)
def _campaign(items: tuple[tuple[str, str], ...]) -> Campaign:
    return campaign(dict(items))


@dataclass(frozen=True)
class Enrichers:
    """The long-lived lookup objects the steps use (loaded once per process)."""

    bots: BotDetector
    spam: SpamList
    geo: GeoLookup

    @classmethod
    def load(cls, settings: Settings) -> Enrichers:
        return cls(bots=BotDetector(), spam=SpamList.from_files(settings.spam_list_file or None),
                   geo=GeoLookup.open(settings.geoip_db or None))


@dataclass
class Context:
    site: Site
    settings: Settings
    enrichers: Enrichers
    salts: tuple[bytes, bytes | None]
    query: dict[str, str]


Step = Callable[[RawHit, Event, Context], "Event | Drop"]


def drop_prefetch(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    return Drop(DropReason.PREFETCH, ctx.site.id) if hit.prefetch else event


def drop_bots(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    verdict = ctx.enrichers.bots.detect(hit.user_agent, hit.webdriver,
                                        ctx.settings.empty_ua_policy)
    return Drop(verdict.reason, ctx.site.id, verdict.label) if verdict else event


def drop_without_browser_headers(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    if hit.browser_headers:
        return event
    return Drop(DropReason.BOT, ctx.site.id, NO_BROWSER_HEADERS)


def drop_ignored_ip(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    return Drop(DropReason.IGNORED_IP, ctx.site.id) if ctx.site.ignores(hit.ip) else event


def drop_do_not_track(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    if ctx.site.honor_dnt and (hit.dnt or hit.gpc):
        return Drop(DropReason.DO_NOT_TRACK, ctx.site.id)
    return event


@lru_cache(maxsize=32_768)
def _referrer_host(referrer: str) -> str:
    host = hostname_of(referrer)
    try:   # punycode, so an internationalised spam domain matches its list entry
        return normalise_host(host) if host else ""
    except ValueError:
        return ""


def drop_spam(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    host = _referrer_host(hit.referrer) if hit.referrer else ""
    if host and ctx.enrichers.spam.is_spam(host):
        return Drop(DropReason.REFERRER_SPAM, ctx.site.id)
    return event


def add_campaign_and_referrer(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    camp = _campaign(tuple(ctx.query.items()))
    event.utm_source, event.utm_medium = camp.utm_source, camp.utm_medium
    event.utm_campaign, event.utm_term = camp.utm_campaign, camp.utm_term
    event.utm_content, event.click_id = camp.utm_content, camp.click_id
    hosts = (ctx.site.domain, *ctx.site.extra_hostnames)
    info = _classify_referrer(hit.referrer, event.hostname, hosts, camp)
    event.referrer, event.referrer_source, event.channel = info.referrer, info.source, info.channel
    return event


def add_user_agent(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    agent = parse_user_agent(hit.user_agent)
    event.browser, event.browser_version = agent.browser, agent.browser_version
    event.os, event.os_version, event.device = agent.os, agent.os_version, agent.device
    return event


def add_location(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    loc = ctx.enrichers.geo.lookup(hit.ip)
    event.country, event.region, event.city = loc.country, loc.region, loc.city
    return event


def add_site_search(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    event.search_term = search_term(ctx.query, ctx.site.search_params)
    return event


def add_language(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    if ctx.site.collect_language:
        event.language = primary_language(hit.accept_language)
    return event


def add_visitor(hit: RawHit, event: Event, ctx: Context) -> Event | Drop:
    current, previous = ctx.salts
    event.visitor_id = visitor_id(current, ctx.site.id, hit.ip, hit.user_agent)
    if previous is not None:
        event.visitor_id_prev = visitor_id(previous, ctx.site.id, hit.ip, hit.user_agent)
    return event


STEPS: tuple[Step, ...] = (
    drop_prefetch,
    drop_bots,
    drop_without_browser_headers,
    drop_ignored_ip,
    drop_do_not_track,
    drop_spam,
    add_campaign_and_referrer,
    add_user_agent,
    add_location,
    add_language,
    add_site_search,
    add_visitor,
)


def host_allowed(site: Site, hostname: str) -> bool:
    """The page must be on the site's domain, a subdomain, or an extra hostname."""
    if hostname in LOCAL_HOSTS:
        return site.allow_localhost
    for allowed in (site.domain, *site.extra_hostnames):
        if hostname == allowed or hostname.endswith("." + allowed):
            return True
    return False


def new_uid() -> int:
    return random_id()


def enrich(hit: RawHit, sites: SiteDirectory, settings: Settings, enrichers: Enrichers,
           salts: tuple[bytes, bytes | None]) -> list[Event | Drop]:
    """Run the pipeline for every site the hit names; one result per site."""
    try:
        parsed = _split_url(hit.url, hit.hash_mode)
    except ValueError:
        return [Drop(DropReason.NOT_HTTP_URL)]
    results: list[Event | Drop] = []
    for domain in hit.domains or (parsed.hostname,):
        site = sites.by_domain(domain)
        if site is None:
            results.append(Drop(DropReason.UNKNOWN_SITE))
            continue
        if not host_allowed(site, parsed.hostname):
            results.append(Drop(DropReason.HOSTNAME_NOT_ALLOWED, site.id))
            continue
        results.append(_run_steps(hit, site, parsed, settings, enrichers, salts))
    return results


def enrich_for_site(hit: RawHit, site: Site, settings: Settings, enrichers: Enrichers,
                    salts: tuple[bytes, bytes | None]) -> Event | Drop:
    """The pipeline for a hit already known to be for `site` (the importers' entry: a
    log line names its site by the command that imports it, not by a domain field)."""
    try:
        parsed = _split_url(hit.url, hit.hash_mode)
    except ValueError:
        return Drop(DropReason.NOT_HTTP_URL, site.id)
    if not host_allowed(site, parsed.hostname):
        return Drop(DropReason.HOSTNAME_NOT_ALLOWED, site.id)
    return _run_steps(hit, site, parsed, settings, enrichers, salts)


def _run_steps(hit: RawHit, site: Site, parsed: ParsedUrl, settings: Settings,
               enrichers: Enrichers, salts: tuple[bytes, bytes | None]) -> Event | Drop:
    ts: datetime = hit.timestamp or hit.received_at
    # A sender-named event (batch API) gets the same uid every time it is sent: a retry
    # of a batch whose answer was lost is stored once.
    uid = stable_id(site.id, hit.client_uid) if hit.client_uid else new_uid()
    event = Event(site_id=site.id, ts=ts, name=hit.name, uid=uid,
                  hostname=parsed.hostname, pathname=parsed.pathname,
                  props=hit.props, revenue_amount=hit.revenue_amount,
                  revenue_currency=hit.revenue_currency, engagement_ms=hit.engagement_ms,
                  scroll_depth=hit.scroll_depth, interactive=hit.interactive,
                  screen_size=screen_size(hit.screen_width))
    ctx = Context(site=site, settings=settings, enrichers=enrichers, salts=salts,
                  query=parsed.query)
    result: Event | Drop = event
    for step in STEPS:
        result = step(hit, event, ctx)
        if isinstance(result, Drop):
            return result
    return result
