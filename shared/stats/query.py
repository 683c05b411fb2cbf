"""Query layer, first step: the one immutable `StatsQuery` value every report takes.

A query names a site (and its timezone), a period of whole local days resolved with an
explicit `now`, an interval for timeseries, ANDed filters and a comparison mode. It is
pure data: nothing here touches the database, so the dashboard, the Stats API and the
tests build the same value from their own inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.core.clock import local_midnight_utc, to_local
from shared.stats import limits
from shared.stats.dimensions import check_dimension, is_visit_dimension
from shared.stats.errors import QueryError

OPERATORS = ("is", "is_not", "is_any_of", "contains", "not_contains", "matches",
             "not_matches")
# Groups of filters (`children`): all of them, any of them, not the one; and the
# behavioural pair - visits whose session has (or has not) an event passing the child.
GROUP_OPERATORS = ("and", "or", "not", "has_done", "has_not_done")
# The `dimension` a group stands under: what it tests decides where it is applied.
VISIT_GROUP = "group:visit"       # every leaf on a visit dimension: a test on the visit
EVENT_GROUP = "group:event"       # every leaf on an event dimension: a test on each event
SESSION_GROUP = "group:session"   # has_done / has_not_done: a test on the visit's events
INTERVALS = ("minute", "hour", "day", "week", "month")
COMPARISONS = ("off", "previous_period", "year_over_year")
NAMED_PERIODS = ("today", "yesterday", "month", "year", "last_month", "12mo", "all", "custom")
_PERIOD_RE = re.compile(r"^(\d{1,4})(d|mo)$")


@dataclass(frozen=True)
class Filter:
    """`dimension operator values`, e.g. Filter("page", "matches", ("/blog/**",)).

    Dimensions are those of `shared.stats.dimensions` plus `prop:<key>`. `is`,
    `is_not` and `is_any_of` compare exactly against any of `values`; `contains` and
    `not_contains` are case-insensitive substring tests; `matches` takes wildcard
    patterns where `*` is any run of characters except `/` and `**` is any run at all;
    `not_matches` keeps what matches none of them.
    """

    dimension: str
    operator: str
    values: tuple[str, ...]
    children: tuple[Filter, ...] = ()

    def __post_init__(self) -> None:
        if self.operator in GROUP_OPERATORS:
            self._check_group()
            return
        check_dimension(self.dimension, for_filter=True)
        if self.operator not in OPERATORS:
            raise QueryError(f"unknown filter operator {self.operator!r} "
                             f"(expected one of {', '.join(OPERATORS)})")
        if isinstance(self.values, str) or not self.values:
            raise QueryError(f"filter on {self.dimension} needs a tuple of one or more values")
        object.__setattr__(self, "values", tuple(str(v) for v in self.values))
        problem = limits.filter_problem(self.dimension, self.operator, self.values)
        if problem:
            raise QueryError(problem)

    @property
    def negated(self) -> bool:
        return self.operator in ("is_not", "not_contains", "not_matches")

    @property
    def is_group(self) -> bool:
        return self.operator in GROUP_OPERATORS

    def leaves(self) -> list[Filter]:
        """The simple filters inside (itself when it is one)."""
        if not self.is_group:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def _check_group(self) -> None:
        object.__setattr__(self, "children", tuple(self.children))
        object.__setattr__(self, "values", ())
        if not self.children or (self.operator != "and" and self.operator != "or"
                                 and len(self.children) != 1):
            raise QueryError(f"a {self.operator!r} filter needs "
                             f"{'one filter' if self.operator not in ('and', 'or') else 'filters'}")
        kinds = {_kind(leaf.dimension) for leaf in self.leaves()}
        if self.operator in ("has_done", "has_not_done"):
            if kinds != {"event"}:
                raise QueryError(f"{self.operator} takes filters on event dimensions "
                                 "(event:page, event:name, event:goal, event:props:*)")
            object.__setattr__(self, "dimension", SESSION_GROUP)
        elif kinds == {"visit"}:
            object.__setattr__(self, "dimension", VISIT_GROUP)
        elif kinds == {"event"}:
            object.__setattr__(self, "dimension", EVENT_GROUP)
        else:
            raise QueryError(f"an {self.operator!r} group cannot mix visit and event dimensions "
                             "(a visit is tested once, each event on its own): split it or "
                             "use has_done")


def _kind(dimension: str) -> str:
    return "visit" if is_visit_dimension(dimension) else "event"


@dataclass(frozen=True)
class DateRange:
    """Local days `first`..`last`, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


@dataclass(frozen=True)
class StatsQuery:
    """What to report on: one site, one period, filters, interval and comparison.

    `period` is "today", "yesterday", "<N>d" (N local days ending today, today
    included), "<N>mo" (the current month and the N-1 before it), "month" (month to
    date), "year" (year to date), "last_month", "12mo" (alias of "12mo" months),
    "all" (from `all_since`, or the site's first event when the report looks it up)
    or "custom" with `start`/`end` dates (inclusive). `now` is UTC, naive.

    The period, the filters and the timeseries buckets are held to `limits` (a
    `comparison_query` may reach before its first day: it is `derived`).
    """

    site_id: int
    timezone: str
    period: str
    now: datetime
    start: date | None = None
    end: date | None = None
    interval: str | None = None
    filters: tuple[Filter, ...] = ()
    comparison: str = "off"
    all_since: date | None = None
    derived: bool = field(default=False, repr=False, compare=False)
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "tz", ZoneInfo(self.timezone))
        except Exception:
            raise QueryError(f"unknown timezone {self.timezone!r}") from None
        if self.now.tzinfo is not None:
            raise QueryError("now must be a naive UTC datetime")
        object.__setattr__(self, "filters", tuple(self.filters))
        if self.interval is not None and self.interval not in INTERVALS:
            raise QueryError(f"unknown interval {self.interval!r} "
                             f"(expected one of {', '.join(INTERVALS)})")
        if self.comparison not in COMPARISONS:
            raise QueryError(f"unknown comparison {self.comparison!r} "
                             f"(expected one of {', '.join(COMPARISONS)})")
        self._check_limits()

    def _check_limits(self) -> None:
        """Validate the period and the bounds now, not at report time."""
        r = self.date_range
        problem = limits.filter_count_problem(len(self.filters))
        if not problem and not self.derived:
            problem = limits.range_problem(r.first, r.last, self.today)
        if not problem:
            problem = limits.bucket_problem(self.resolved_interval, r.first, r.last)
        if problem:
            raise QueryError(problem)

    # --- time ------------------------------------------------------------------------
    @property
    def today(self) -> date:
        """The site's local date at `now`."""
        return to_local(self.now, self.tz).date()

    @property
    def date_range(self) -> DateRange:
        return resolve_period(self.period, self.today, self.start, self.end, self.all_since)

    @property
    def utc_range(self) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC: local midnight of the first day to that after the last."""
        r = self.date_range
        return local_midnight_utc(r.first, self.tz), local_midnight_utc(
            r.last + timedelta(days=1), self.tz)

    @property
    def resolved_interval(self) -> str:
        """The interval asked for, else hour for one day, day up to 92 days, else month."""
        if self.interval:
            return self.interval
        days = self.date_range.days
        return "hour" if days == 1 else "day" if days <= 92 else "month"

    # --- derived queries ---------------------------------------------------------------
    def with_filters(self, *filters: Filter) -> StatsQuery:
        return replace(self, filters=self.filters + tuple(filters))

    def with_range(self, first: date, last: date, *, derived: bool = False) -> StatsQuery:
        """The same query over custom days (filters and interval kept, comparison off)."""
        return replace(self, period="custom", start=first, end=last, comparison="off",
                       derived=derived)

    def comparison_query(self) -> StatsQuery | None:
        """The query for the comparison period, or None when comparison is off.

        previous_period: as many days, ending the day before the first one.
        year_over_year: the same dates one year earlier (29 February becomes the 28th).
        """
        r = self.date_range
        if self.comparison == "previous_period":
            last = r.first - timedelta(days=1)
            return self.with_range(last - timedelta(days=r.days - 1), last, derived=True)
        if self.comparison == "year_over_year":
            return self.with_range(_year_earlier(r.first), _year_earlier(r.last), derived=True)
        return None


def _year_earlier(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _month_start(d: date, months_back: int) -> date:
    index = d.year * 12 + d.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def resolve_period(period: str, today: date, start: date | None = None,
                   end: date | None = None, all_since: date | None = None) -> DateRange:
    """The local days a period covers, given the site's local `today`."""
    if period == "custom":
        if start is None or end is None or start > end:
            raise QueryError("a custom period needs start <= end")
        return DateRange(start, end)
    if period == "today":
        return DateRange(today, today)
    if period == "yesterday":
        y = today - timedelta(days=1)
        return DateRange(y, y)
    if period == "month":
        return DateRange(today.replace(day=1), today)
    if period == "year":
        return DateRange(date(today.year, 1, 1), today)
    if period == "last_month":
        first = _month_start(today, 1)
        return DateRange(first, today.replace(day=1) - timedelta(days=1))
    if period == "all":
        # Clamped: an event stamped before the earliest reported day (a batch import can
        # set any time) must not make "all" a refused period.
        first = max(all_since or today, limits.EARLIEST_DAY)
        return DateRange(min(first, today), today)
    m = _PERIOD_RE.match(period)
    if m and int(m.group(1)) >= 1:
        n = int(m.group(1))
        if m.group(2) == "d":
            return DateRange(today - timedelta(days=n - 1), today)
        return DateRange(_month_start(today, n - 1), today)
    raise QueryError(f"unknown period {period!r} (expected today, yesterday, 7d, 30d, 6mo, "
                     "12mo, month, year, last_month, all or custom)")
