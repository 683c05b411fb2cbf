"""Stats API v1, parse step: the query string -> `V1Params`, or the v1 error for it.

Parameters as Plausible's v1 reference defines them: `period` (12mo, 6mo, month, 30d,
7d, day, custom; default 30d) relative to `date` (default: today in the site's
timezone), `date=START,END` for custom, `metrics` (comma-separated, default visitors),
`property`, `filters`, `compare=previous_period`, `interval` (day/date or month),
`limit` (1..1000, default 100) and `page` (from 1). Messages follow v1's wording.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import V1Error
from .filters import V1Filter, dimension_of, parse

PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo", "custom")
METRICS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
           "visit_duration", "events", "conversion_rate", "time_on_page")
INTERVALS = {"day": "day", "date": "day", "month": "month"}
MAX_LIMIT, DEFAULT_LIMIT = 1000, 100
DOCS = "https://plausible.io/docs/stats-api"


@dataclass(frozen=True)
class V1Params:
    site_id: str
    period: str
    first: date
    last: date
    metrics: tuple[str, ...]
    filters: tuple[V1Filter, ...]
    property: str | None = None
    compare: bool = False
    interval: str | None = None
    limit: int = DEFAULT_LIMIT
    page: int = 1

    def filters_on(self, prop: str) -> bool:
        return any(f.name == prop for f in self.filters)


def site_id_of(args: Mapping[str, str]) -> str:
    site_id = (args.get("site_id") or "").strip()
    if not site_id:
        raise V1Error("Missing site ID. Please provide the required site_id parameter with "
                      "your request.")
    return site_id


def parse_params(args: Mapping[str, str], today: date, *, endpoint: str) -> V1Params:
    """Validate one endpoint's parameters (`aggregate`, `timeseries` or `breakdown`)."""
    period = args.get("period") or "30d"
    if period not in PERIODS:
        raise V1Error(f"Error parsing `period` parameter: invalid period `{period[:40]}`. "
                      f"Please find accepted values in our docs: {DOCS}#time-periods")
    first, last = date_range(period, args.get("date"), today)
    prop = _property(args) if endpoint == "breakdown" else None
    params = V1Params(
        site_id=site_id_of(args), period=period, first=first, last=last,
        metrics=_metrics(args.get("metrics")), filters=tuple(parse(args.get("filters") or "")),
        property=prop, compare=_compare(args.get("compare")),
        interval=_interval(args.get("interval")) if endpoint == "timeseries" else None,
        limit=_positive(args, "limit", DEFAULT_LIMIT, MAX_LIMIT) if prop else DEFAULT_LIMIT,
        page=_positive(args, "page", 1, None) if prop else 1)
    check_metrics(params)
    return params


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise V1Error(f"Error parsing `date` parameter: invalid date `{text[:40]}`. Please "
                      "specify a valid date in ISO-8601 format.") from None


def _month_back(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def date_range(period: str, raw_date: str | None, today: date) -> tuple[date, date]:
    """The local days (first, last) of `period` relative to `date` (or today)."""
    if period == "custom":
        if not raw_date:
            raise V1Error("The `date` parameter is required when using a custom period. "
                          f"See {DOCS}#time-periods")
        parts = raw_date.split(",")
        if len(parts) != 2:
            raise V1Error("Invalid format for `date` parameter. When using a custom period, "
                          "please include two ISO-8601 formatted dates joined by a comma. "
                          f"See {DOCS}#time-periods")
        first, last = _day(parts[0]), _day(parts[1])
        if first > last:
            raise V1Error("Invalid `date` parameter: the first date is after the last one.")
        return first, last
    d = _day(raw_date) if raw_date else today
    if period == "day":
        return d, d
    if period in ("7d", "30d"):
        return d - timedelta(days=int(period[:-1]) - 1), d
    if period == "month":
        return d.replace(day=1), _month_end(d)
    return _month_back(d, int(period[:-2]) - 1), _month_end(d)     # 6mo, 12mo


def _metrics(raw: str | None) -> tuple[str, ...]:
    names = tuple(m.strip() for m in (raw or "visitors").split(","))
    if len(set(names)) != len(names):
        raise V1Error("Metrics cannot be queried multiple times.")
    for m in names:
        if m not in METRICS:
            raise V1Error(f"The metric `{m[:40]}` is not recognized. Find valid metrics from "
                          f"the documentation: {DOCS}#metrics")
    return names


def check_metrics(p: V1Params) -> None:
    """The pairings v1 refuses: conversion_rate needs goals, time_on_page needs pages."""
    if "conversion_rate" in p.metrics and not (
            p.property == "event:goal" or p.filters_on("event:goal")):
        raise V1Error("Metric `conversion_rate` can only be queried in a goal breakdown or "
                      "with a goal filter")
    if "time_on_page" in p.metrics:
        if p.filters_on("event:goal") or p.filters_on("event:name"):
            raise V1Error("Metric `time_on_page` cannot be queried when filtering by "
                          "`event:goal` or `event:name`")
        if p.property not in (None, "event:page"):
            raise V1Error("Metric `time_on_page` is not supported in breakdown queries "
                          "(except `event:page` breakdown)")
        if p.property is None and not p.filters_on("event:page"):
            raise V1Error("Metric `time_on_page` can only be queried in a page breakdown or "
                          "with a page filter.")
    if p.property == "event:goal":
        other = set(p.metrics) - {"visitors", "events", "conversion_rate"}
        if other:
            raise V1Error(f"Metric `{sorted(other)[0]}` is not supported in a goal breakdown "
                          "(use visitors, events or conversion_rate)")


def _property(args: Mapping[str, str]) -> str:
    prop = (args.get("property") or "").strip()
    if not prop:
        raise V1Error("The `property` parameter is required. Please provide at least one "
                      "property to show a breakdown by.")
    if prop == "event:hostname":
        raise V1Error("Property 'event:hostname' is currently not supported for breakdowns. "
                      f"Please provide a valid property for the breakdown endpoint: "
                      f"{DOCS}#properties")
    if prop != "event:goal" and dimension_of(prop) is None:
        raise V1Error(f"Invalid property '{prop[:100]}'. Please provide a valid property for "
                      f"the breakdown endpoint: {DOCS}#properties")
    return prop


def _compare(raw: str | None) -> bool:
    if raw in (None, ""):
        return False
    if raw == "previous_period":
        return True
    raise V1Error(f"Error parsing `compare` parameter: invalid value `{raw[:40]}`. The "
                  "accepted value is `previous_period`.")


def _interval(raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in INTERVALS:
        raise V1Error(f"Error parsing `interval` parameter: invalid interval `{raw[:40]}`. "
                      "Valid intervals are `day`, `month`")
    return INTERVALS[raw]


def _positive(args: Mapping[str, str], name: str, default: int, most: int | None) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    value = int(raw) if raw.isdigit() and len(raw) < 10 else 0
    if value < 1 or (most is not None and value > most):
        raise V1Error(f"Please provide limit as a number between 1 and {most}." if most
                      else f"Please provide {name} as a positive number.")
    return value
