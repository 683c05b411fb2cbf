"""Stats API, parse step: a `POST /api/v2/query` body -> `ApiQuery`, or every reason it
is not one.

The body follows Plausible's Stats API v2 (site_id, metrics, date_range, dimensions,
filters, order_by, include, pagination) and is translated to the query layer's names
once, here: `visit:country` -> `country`, `event:props:plan` -> `prop:plan`,
`time:day` -> a daily timeseries. All problems are collected so one 400 lists them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from beacon_app.stats_api.filters import (
    DIMENSIONS,
    GOAL,
    OPERATORS,
    internal_dimension,
    parse_filters,
)

# API metric -> Metrics attribute (None: computed by the run step from other answers)
METRICS: dict[str, str | None] = {
    "visitors": "visitors", "visits": "visits", "pageviews": "pageviews",
    "views_per_visit": "views_per_visit", "bounce_rate": "bounce_rate",
    "visit_duration": "visit_duration", "time_on_page": "time_on_page",
    "scroll_depth": "scroll_depth", "events": "events", "percentage": None,
    "conversion_rate": None, "group_conversion_rate": None, "total_revenue": None,
    "average_revenue": None,
}
GOAL_METRICS = ("conversion_rate", "group_conversion_rate", "total_revenue", "average_revenue")
TIME_DIMENSIONS = {"time": None, "time:minute": "minute", "time:hour": "hour",
                   "time:day": "day", "time:week": "week", "time:month": "month"}
WINDOWS = {"realtime": 30, "30m": 30}     # the last N minutes, not whole days
_RELATIVE = re.compile(r"^(\d{1,3})(d|mo)$")
MAX_LIMIT = 10_000
COMPARISON_MODES = ("previous_period", "year_over_year", "custom")
__all__ = ["DIMENSIONS", "OPERATORS", "internal_dimension"]


class ApiError(ValueError):
    """The request is invalid; `reasons` lists every problem found."""

    def __init__(self, reasons: list[str], status: int = 400) -> None:
        super().__init__("; ".join(reasons))
        self.reasons, self.status = reasons, status


@dataclass(frozen=True)
class ApiQuery:
    site_id: str
    metrics: tuple[str, ...]
    period: str
    start: date | None
    end: date | None
    interval: str | None                 # set when a time dimension was asked for
    time_dimension: str | None
    dimension: str | None                # the query layer's name, e.g. "country"
    dimensions: tuple[str, ...]          # as asked, in order
    filters: tuple[Any, ...]
    order_by: tuple[tuple[str, str], ...]
    include: dict[str, Any] = field(default_factory=dict)
    limit: int = MAX_LIMIT
    offset: int = 0
    raw: dict[str, Any] = field(default_factory=dict)
    second_dimension: str | None = None  # a second non-time dimension (query-layer name)
    window: tuple[datetime, datetime] | None = None   # a date-time range (aware)
    window_minutes: int | None = None    # "realtime" / "30m": the last N minutes

    segments: tuple[int, ...] = ()       # ["is", "segment", [id]]: resolved with the site

    @property
    def goal_dimension(self) -> bool:
        return GOAL in self.dimensions

    @property
    def comparison(self) -> dict[str, Any] | None:
        value = self.include.get("comparisons")
        return value if isinstance(value, dict) else None


def parse(body: Any) -> ApiQuery:
    """Validate and translate a request body; raises ApiError listing every problem."""
    if not isinstance(body, dict):
        raise ApiError(["the body must be a JSON object"])
    errors: list[str] = []
    unknown = set(body) - {"site_id", "metrics", "date_range", "dimensions", "filters",
                           "order_by", "include", "pagination"}
    if unknown:
        errors.append(f"unknown fields: {', '.join(sorted(unknown))}")
    site_id = body.get("site_id")
    if not isinstance(site_id, str) or not site_id:
        errors.append("site_id is required (the site's domain)")
    metrics = _metrics(body.get("metrics"), errors)
    raw_range = body.get("date_range")
    window, minutes = _window(raw_range, errors)
    period, start, end = ("custom", None, None) if window or minutes else \
        _date_range(raw_range, errors)
    time_dim, dims, others = _dimensions(body.get("dimensions", []), errors)
    segments, rest = take_segments(body.get("filters", []), errors)
    filters = parse_filters(rest, errors)
    order_by = _order_by(body.get("order_by"), metrics, dims, errors)
    include = _include(body.get("include", {}), errors)
    limit, offset = _pagination(body.get("pagination", {}), errors)
    _check_combinations(metrics, dims, body.get("filters", []), include, time_dim, errors)
    if errors:
        raise ApiError(errors)
    return ApiQuery(str(site_id), metrics, period, start, end, TIME_DIMENSIONS.get(time_dim or ""),
                    time_dim, others[0] if others else None, dims, filters, order_by, include,
                    limit, offset, body, others[1] if len(others) > 1 else None, window,
                    minutes, segments)


def take_segments(value: Any, errors: list[str]) -> tuple[tuple[int, ...], Any]:
    """The ids of the top-level `["is", "segment", [id]]` filters (also inside a top-level
    `["and", [...]]`), and the other filters; the segments' own filters are ANDed in once
    the site is known (shared.reports.segments)."""
    if not isinstance(value, list):
        return (), value
    items = value[1] if len(value) == 2 and value[0] == "and" and isinstance(
        value[1], list) else value
    ids: list[int] = []
    rest = []
    for item in items:
        if not (isinstance(item, list) and len(item) >= 2 and item[1] == "segment"):
            rest.append(item)
            continue
        ok = (len(item) == 3 and item[0] == "is" and isinstance(item[2], list)
              and len(item[2]) == 1 and isinstance(item[2][0], int)
              and not isinstance(item[2][0], bool))
        if ok:
            ids.append(item[2][0])
        else:
            errors.append('a segment filter looks like ["is", "segment", [<segment id>]]')
    return tuple(ids), rest


def _check_combinations(metrics: tuple[str, ...], dims: tuple[str, ...], filters: Any,
                        include: dict[str, Any], time_dim: str | None,
                        errors: list[str]) -> None:
    from beacon_app.stats_api.filters import has_goal_filter
    goal_context = GOAL in dims or has_goal_filter(filters)
    needs_goal = [m for m in metrics if m in GOAL_METRICS]
    if needs_goal and not goal_context:
        errors.append(f"{', '.join(needs_goal)} need an event:goal filter or dimension")
    non_time = [d for d in dims if d not in TIME_DIMENSIONS]
    if "percentage" in metrics and not non_time:
        errors.append("percentage needs a non-time dimension")
    if GOAL in dims and len(dims) > 1:
        errors.append("event:goal cannot be combined with another dimension")
    if include.get("time_labels") and not time_dim:
        errors.append("include.time_labels needs a time dimension")


def _metrics(value: Any, errors: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(m, str) for m in value):
        errors.append("metrics must be a non-empty list of metric names "
                      f"({', '.join(METRICS)})")
        return ()
    unknown = [m for m in value if m not in METRICS]
    if unknown:
        errors.append(f"unknown metrics: {', '.join(unknown)} (expected {', '.join(METRICS)})")
    if len(set(value)) != len(value):
        errors.append("metrics must not repeat")
    return tuple(value)


def _date_range(value: Any, errors: list[str]) -> tuple[str, date | None, date | None]:
    named = {"day": "today", "month": "month", "year": "year", "all": "all"}
    if isinstance(value, str):
        if value in named:
            return named[value], None, None
        m = _RELATIVE.match(value)
        if m and int(m.group(1)) >= 1:
            return value, None, None
    elif isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        try:
            start, end = (date.fromisoformat(v[:10]) for v in value)
        except ValueError:
            errors.append("date_range dates must be ISO dates like 2024-01-31")
            return "custom", None, None
        if start > end:
            errors.append("date_range start must not be after its end")
        return "custom", start, end
    errors.append('date_range must be "realtime", "30m", "day", "7d", "28d", "30d", "91d", '
                  '"month", "6mo", "12mo", "year", "all", ["YYYY-MM-DD", "YYYY-MM-DD"] or two '
                  "ISO date-times with an offset")
    return "30d", None, None


def _window(value: Any, errors: list[str]) -> tuple[tuple[datetime, datetime] | None,
                                                    int | None]:
    """A range shorter than whole days: "realtime"/"30m" (minutes before now), or two
    ISO 8601 date-times with an offset ("2024-01-01T12:00:00+02:00")."""
    if isinstance(value, str) and value in WINDOWS:
        return None, WINDOWS[value]
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, str) and len(v) > 10 for v in value)):
        return None, None
    try:
        first, last = (datetime.fromisoformat(v) for v in value)
    except ValueError:
        errors.append("date_range date-times must look like 2024-01-01T12:00:00+02:00")
        return None, None
    if first.tzinfo is None or last.tzinfo is None:
        errors.append("date_range date-times need an offset (+02:00 or Z)")
        return None, None
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    if first > last:
        errors.append("date_range start must not be after its end")
    elif (last - first).days > 31:
        errors.append("a date-time date_range spans at most 31 days (use dates for more)")
    return (first, last), None


def _dimensions(value: Any, errors: list[str]
                ) -> tuple[str | None, tuple[str, ...], list[str]]:
    """(time dimension, the dimensions as asked, the others in the query layer's names)."""
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        errors.append("dimensions must be a list of names")
        return None, (), []
    time_dims = [d for d in value if d in TIME_DIMENSIONS]
    others = [d for d in value if d not in TIME_DIMENSIONS]
    unknown = [d for d in others if d != GOAL and internal_dimension(d) is None]
    if unknown:
        errors.append(f"unknown dimensions: {', '.join(unknown)} (expected "
                      f"{', '.join([*TIME_DIMENSIONS, GOAL, *DIMENSIONS])} or "
                      "event:props:<key>)")
    if len(time_dims) > 1 or len(others) > 2:
        errors.append("at most one time dimension and two others are supported")
    if len(set(value)) != len(value):
        errors.append("dimensions must not repeat")
    internal = [GOAL if d == GOAL else internal_dimension(d) or "" for d in others]
    return (time_dims[0] if time_dims else None), tuple(value), internal


def _order_by(value: Any, metrics: tuple[str, ...], dims: tuple[str, ...],
              errors: list[str]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    ok = isinstance(value, list) and all(
        isinstance(o, list) and len(o) == 2 and o[1] in ("asc", "desc") for o in value)
    if not ok:
        errors.append('order_by must be a list like [["visitors", "desc"]]')
        return ()
    bad = [o[0] for o in value if o[0] not in metrics and o[0] not in dims]
    if bad:
        errors.append(f"order_by names must be requested metrics or dimensions: "
                      f"{', '.join(map(str, bad))}")
    return tuple((str(o[0]), str(o[1])) for o in value)


def _include(value: Any, errors: list[str]) -> dict[str, Any]:
    known = ("imports", "time_labels", "total_rows", "comparisons")
    if not isinstance(value, dict):
        errors.append(f"include must be an object ({', '.join(known)})")
        return {}
    unknown = set(value) - set(known)
    if unknown:
        errors.append(f"unknown include options: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for k in known[:3]:
        if not isinstance(value.get(k, False), bool):
            errors.append(f"include.{k} must be true or false")
        out[k] = bool(value.get(k, False))
    if value.get("comparisons") is not None:
        out["comparisons"] = _comparisons(value["comparisons"], errors)
    return out


def _comparisons(value: Any, errors: list[str]) -> dict[str, Any] | None:
    """{"mode": "previous_period" | "year_over_year"} or
    {"mode": "custom", "date_range": ["YYYY-MM-DD", "YYYY-MM-DD"]}."""
    if not isinstance(value, dict) or value.get("mode") not in COMPARISON_MODES \
            or set(value) - {"mode", "date_range", "match_day_of_week"}:
        errors.append('include.comparisons must be {"mode": "previous_period"}, '
                      '{"mode": "year_over_year"} or {"mode": "custom", "date_range": '
                      '["YYYY-MM-DD", "YYYY-MM-DD"]}')
        return None
    if value.get("match_day_of_week"):
        errors.append("include.comparisons.match_day_of_week is not supported (the "
                      "comparison period has the same dates shifted, not the same weekdays)")
    if value["mode"] != "custom":
        return {"mode": value["mode"]}
    period, start, end = _date_range(value.get("date_range"), errors)
    if period != "custom" or start is None or end is None:
        errors.append("a custom comparison needs date_range as two ISO dates")
        return None
    return {"mode": "custom", "start": start, "end": end}


def _pagination(value: Any, errors: list[str]) -> tuple[int, int]:
    if not isinstance(value, dict):
        errors.append("pagination must be an object {limit, offset}")
        return MAX_LIMIT, 0
    limit, offset = value.get("limit", MAX_LIMIT), value.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        errors.append(f"pagination.limit must be a whole number from 1 to {MAX_LIMIT}")
        limit = MAX_LIMIT
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        errors.append("pagination.offset must be a whole number >= 0")
        offset = 0
    return limit, offset
