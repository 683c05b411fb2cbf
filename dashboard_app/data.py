"""Dashboard data access: one cached engine, and cached wrappers over the query layer.

Reports are cached with `st.cache_data` keyed by the database URL and the query value
(its repr: every field that decides the answer). `now` is rounded down to the cache
period, so reruns within that period ask the same question and hit the cache, and an
answer is never older than BEACON_DASHBOARD_CACHE_SECONDS. Everything shown comes from
`shared.reports`; no SQL for reports lives here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from dashboard_app.auth import Access
from shared.accounts.users import get_user
from shared.core.clock import to_local, utc_now
from shared.core.settings import Settings, load_settings
from shared.reports import traffic as reports
from shared.reports.annotations import Annotation, list_annotations
from shared.reports.bots import bot_report
from shared.reports.bots import bot_total as bot_count_total
from shared.reports.funnels import Funnel, FunnelReport, list_funnels
from shared.reports.funnels import funnel_report as funnel_query
from shared.reports.goals import Goal, GoalResult, list_goals
from shared.reports.goals import goal_conversions as goals_report
from shared.reports.partial import window_metrics as window_report
from shared.reports.realtime import realtime as realtime_report
from shared.reports.revenue import revenue_by_value
from shared.reports.segments import Segment, list_segments, segment_filters
from shared.reports.traffic import BreakdownSpec
from shared.sites import Site, list_sites
from shared.stats.query import Filter, StatsQuery
from shared.stats.results import Breakdown, Metrics, Realtime, Timeseries, Totals
from shared.storage import make_engine
from shared.storage.read_timeout import time_limit

_HASH: dict[Any, Any] = {StatsQuery: repr, Funnel: repr, BreakdownSpec: repr}
# Upper bound only: the effective lifetime is the rounding of `now` (see cache_now).
_MAX_TTL = 3600


def settings() -> Settings:
    """Read on every run (cheap), so a test or a restart with new variables is seen."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    return make_engine(url)


def current_engine() -> Engine:
    return engine(settings().resolved_database_url)


def cache_now(seconds: int | None = None) -> datetime:
    """UTC now (naive) rounded down to the cache period."""
    period = max(1, settings().dashboard_cache_seconds if seconds is None else seconds)
    stamp = int(datetime.now(UTC).timestamp()) // period * period
    return datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)


def site_today(site: Site) -> date:
    from zoneinfo import ZoneInfo

    return to_local(utc_now(), ZoneInfo(site.timezone)).date()


def sites_for(access: Access) -> list[Site]:
    """The sites this access may see, fresh on every run (roles can change any time)."""
    with current_engine().connect() as conn:
        return [s for s in list_sites(conn) if s.id in access.roles or access.is_admin]


def clear() -> None:
    """Forget cached reports, e.g. after a goal was added."""
    st.cache_data.clear()


def _run(url: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(conn, ...)` within the query time limit (QueryTimeout past it: not cached)."""
    with engine(url).connect() as conn, time_limit(conn, settings().query_timeout_seconds):
        return fn(conn, *args, **kwargs)


# --- cached reports --------------------------------------------------------------------
# Each wrapper takes the database URL first, so two databases never share an entry.

@st.cache_data(ttl=_MAX_TTL, max_entries=2048, show_spinner=False, hash_funcs=_HASH)
def totals(url: str, query: StatsQuery) -> Totals:
    return _run(url, reports.totals, query)


@st.cache_data(ttl=_MAX_TTL, max_entries=1024, show_spinner=False, hash_funcs=_HASH)
def timeseries(url: str, query: StatsQuery) -> Timeseries:
    return _run(url, reports.timeseries, query)


@st.cache_data(ttl=_MAX_TTL, max_entries=1024, show_spinner=False, hash_funcs=_HASH)
def window_metrics(url: str, query: StatsQuery, start: datetime, end: datetime) -> Metrics:
    """Metrics of local [start, end) under the query's filters (a period's complete part)."""
    return _run(url, window_report, query, start, end)


def _without_comparison(query: StatsQuery) -> StatsQuery:
    """A breakdown ignores the comparison: keyed without it, switching "Compare with"
    finds the lists already cached instead of reading them again."""
    return query if query.comparison == "off" else replace(query, comparison="off")


def breakdown(url: str, query: StatsQuery, dimension: str, limit: int = 10,
              order_by: str = "visitors") -> Breakdown:
    return _breakdown(url, _without_comparison(query), dimension, limit, order_by)


@st.cache_data(ttl=_MAX_TTL, max_entries=4096, show_spinner=False, hash_funcs=_HASH)
def _breakdown(url: str, query: StatsQuery, dimension: str, limit: int,
               order_by: str) -> Breakdown:
    return _run(url, reports.breakdown, query, dimension, limit=limit, order_by=order_by)


def breakdowns(url: str, query: StatsQuery,
               specs: tuple[BreakdownSpec, ...]) -> dict[BreakdownSpec, Breakdown]:
    """A page's breakdowns in one call: filtered ones share one read of the visits."""
    return _breakdowns(url, _without_comparison(query), specs)


@st.cache_data(ttl=_MAX_TTL, max_entries=512, show_spinner=False, hash_funcs=_HASH)
def _breakdowns(url: str, query: StatsQuery,
                specs: tuple[BreakdownSpec, ...]) -> dict[BreakdownSpec, Breakdown]:
    return _run(url, reports.breakdowns, query, specs)


@st.cache_data(ttl=_MAX_TTL, max_entries=1024, show_spinner=False, hash_funcs=_HASH)
def revenue(url: str, query: StatsQuery, dimension: str,
            values: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """value -> {currency: amount} of the rows of a breakdown (never summed across)."""
    return _run(url, revenue_by_value, query, dimension, values)


def url() -> str:
    """The database URL the cached reports are keyed by."""
    return settings().resolved_database_url


def query_for(frame: Any, site: Site) -> StatsQuery:
    """The frame's StatsQuery for `site` at the cache period's `now`, with the filters of
    its saved segment (QueryError when this viewer may not use that segment)."""
    q: StatsQuery = frame.query(site.id, site.timezone, cache_now())
    if frame.segment is not None:
        user_id, is_admin = viewer()
        q = q.with_filters(*segment_filters_for(url(), site.id, frame.segment, user_id,
                                                is_admin))
    return q


def viewer() -> tuple[int | None, bool]:
    """(user id, administrator?) of who is looking; (None, False) for a share link."""
    access = st.session_state.get("access")
    if access is None or access.email is None:
        return None, False
    return user_id_of(url(), access.email), bool(access.is_admin)


@st.cache_data(ttl=_MAX_TTL, max_entries=256, show_spinner=False)
def user_id_of(url: str, email: str) -> int | None:
    with engine(url).connect() as conn:
        user = get_user(conn, email)
    return user.id if user else None


@st.cache_data(ttl=_MAX_TTL, max_entries=256, show_spinner=False)
def segment_filters_for(url: str, site_id: int, segment_id: int, user_id: int | None,
                        is_admin: bool) -> tuple[Filter, ...]:
    with engine(url).connect() as conn:
        return segment_filters(conn, site_id, [segment_id], user_id=user_id,
                               is_admin=is_admin)


@st.cache_data(ttl=_MAX_TTL, max_entries=256, show_spinner=False)
def segments(url: str, site_id: int, user_id: int | None, is_admin: bool) -> list[Segment]:
    with engine(url).connect() as conn:
        return list_segments(conn, site_id, user_id=user_id, is_admin=is_admin)


@st.cache_data(ttl=_MAX_TTL, max_entries=256, show_spinner=False)
def site_annotations(url: str, site_id: int, first: date | None = None,
                last: date | None = None) -> list[Annotation]:
    with engine(url).connect() as conn:
        return list_annotations(conn, site_id, first, last)


@st.cache_data(ttl=_MAX_TTL, max_entries=256, show_spinner=False)
def realtime(url: str, site_id: int, timezone: str, now: datetime) -> Realtime:
    return _run(url, realtime_report, site_id, timezone, now)


@st.cache_data(ttl=_MAX_TTL, max_entries=512, show_spinner=False, hash_funcs=_HASH)
def goal_conversions(url: str, query: StatsQuery) -> list[GoalResult]:
    return _run(url, goals_report, query)


@st.cache_data(ttl=_MAX_TTL, max_entries=512, show_spinner=False, hash_funcs=_HASH)
def funnel_report(url: str, query: StatsQuery, funnel: Funnel) -> FunnelReport:
    return _run(url, funnel_query, query, funnel)


@st.cache_data(ttl=_MAX_TTL, max_entries=512, show_spinner=False)
def bot_rows(url: str, site_id: int, first: date, last: date,
             dimensions: tuple[str, ...]) -> list[tuple[tuple[str, ...], int]]:
    """Dropped bot hits per `dimensions` (see shared.reports.bots), largest first."""
    rows = _run(url, bot_report, site_id, first, last, dimensions)
    return [(r.dimensions, r.count) for r in rows]


@st.cache_data(ttl=_MAX_TTL, max_entries=512, show_spinner=False)
def bot_total(url: str, site_id: int, first: date, last: date) -> int:
    return int(_run(url, bot_count_total, site_id, first, last))


def goals_and_funnels(site_id: int) -> tuple[list[Goal], list[Funnel]]:
    """Definitions are read fresh (not cached): an edit must show at once."""
    with current_engine().connect() as conn:
        return list_goals(conn, site_id), list_funnels(conn, site_id)


@st.cache_data(ttl=_MAX_TTL, max_entries=256, show_spinner=False, hash_funcs=_HASH)
def prop_keys(url: str, query: StatsQuery, sample_rows: int = 20_000) -> list[str]:
    """Property keys seen in the frame's first `sample_rows` custom events, most common
    first: enough to offer the keys to pick from, cheap on a big site."""
    import json
    from collections import Counter

    from shared.dataout.dataframes import events_df_chunks

    counts: Counter[str] = Counter()
    for chunk in events_df_chunks(engine(url), query, chunksize=sample_rows,
                                  columns=("name", "props")):
        for text in chunk["props"]:       # the JSON object's text (see event_schema)
            props = json.loads(text) if isinstance(text, str) else None
            counts.update(props.keys() if isinstance(props, dict) else ())
        break
    return [k for k, _ in counts.most_common(100)]


def chart_notes(query: StatsQuery) -> list[tuple[datetime, datetime, str]]:
    """The site's annotations over the query's days, as (start, end, text) for a time
    chart: a day's note at its local midnight, a range up to the end of its last day."""
    r = query.date_range
    notes = site_annotations(url(), query.site_id, r.first, r.last)
    out = []
    for n in notes:
        start = datetime.combine(max(n.first_day, r.first), datetime.min.time())
        end = (start if n.first_day == n.last_day else
               datetime.combine(min(n.last_day, r.last), datetime.max.time()))
        out.append((start, end, n.text))
    return out
