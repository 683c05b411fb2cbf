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
from datetime import date
from typing import Any

from shared.stats.dimensions import VISIT_DIMENSIONS
from shared.stats.limits import filter_count_problem
from shared.stats.query import Filter, QueryError

# API metric -> Metrics attribute
METRICS = {
    "visitors": "visitors", "visits": "visits", "pageviews": "pageviews",
    "views_per_visit": "views_per_visit", "bounce_rate": "bounce_rate",
    "visit_duration": "visit_duration", "time_on_page": "time_on_page",
    "scroll_depth": "scroll_depth", "events": "events", "total_revenue": "revenue",
    "average_revenue": "average_revenue", "percentage": "percentage",
}
TIME_DIMENSIONS = {"time": None, "time:minute": "minute", "time:hour": "hour",
                   "time:day": "day", "time:week": "week", "time:month": "month"}
_EVENT = {"event:page": "page", "event:hostname": "hostname", "event:name": "event",
          "event:search_term": "search_term"}
_VISIT = {f"visit:{d}": d for d in VISIT_DIMENSIONS}
DIMENSIONS: dict[str, str] = {**_EVENT, **_VISIT}
OPERATORS = {"is": "is", "is_not": "is_not", "contains": "contains",
             "contains_not": "not_contains", "matches": "matches"}
_RELATIVE = re.compile(r"^(\d{1,3})(d|mo)$")
MAX_LIMIT = 10_000
MAX_FILTER_DEPTH = 3         # ["and", [["and", [...]]]]: more nesting says nothing new


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
    filters: tuple[Filter, ...]
    order_by: tuple[tuple[str, str], ...]
    include: dict[str, bool] = field(default_factory=dict)
    limit: int = MAX_LIMIT
    offset: int = 0
    raw: dict[str, Any] = field(default_factory=dict)
    segments: tuple[int, ...] = ()       # ["is", "segment", [id]]: resolved with the site


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
    period, start, end = _date_range(body.get("date_range"), errors)
    time_dim, dimension, dims = _dimensions(body.get("dimensions", []), errors)
    segments, rest = take_segments(body.get("filters", []), errors)
    filters = _filters(rest, errors)
    order_by = _order_by(body.get("order_by"), metrics, dims, errors)
    include = _include(body.get("include", {}), errors)
    limit, offset = _pagination(body.get("pagination", {}), errors)
    if errors:
        raise ApiError(errors)
    return ApiQuery(str(site_id), metrics, period, start, end, TIME_DIMENSIONS.get(time_dim or ""),
                    time_dim, dimension, dims, filters, order_by, include, limit, offset, body,
                    segments)


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
    errors.append('date_range must be "day", "7d", "30d", "month", "6mo", "12mo", "year", '
                  '"all" or ["YYYY-MM-DD", "YYYY-MM-DD"]')
    return "30d", None, None


def _dimensions(value: Any, errors: list[str]) -> tuple[str | None, str | None, tuple[str, ...]]:
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        errors.append("dimensions must be a list of names")
        return None, None, ()
    time_dims = [d for d in value if d in TIME_DIMENSIONS]
    others = [d for d in value if d not in TIME_DIMENSIONS]
    unknown = [d for d in others if d not in DIMENSIONS and not _prop_key(d)]
    if unknown:
        errors.append(f"unknown dimensions: {', '.join(unknown)} (expected "
                      f"{', '.join(list(TIME_DIMENSIONS) + list(DIMENSIONS))} or "
                      "event:props:<key>)")
    if len(time_dims) > 1 or len(others) > 1:
        errors.append("at most one time dimension and one other dimension are supported")
    if len(set(value)) != len(value):
        errors.append("dimensions must not repeat")
    dim = others[0] if others and not unknown else None
    internal = (f"prop:{_prop_key(dim)}" if _prop_key(dim) else DIMENSIONS[dim]) if dim else None
    return (time_dims[0] if time_dims else None), internal, tuple(value)


def _prop_key(name: str | None) -> str:
    return name[len("event:props:"):] if name and name.startswith("event:props:") else ""


def internal_dimension(name: str, errors: list[str]) -> str | None:
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    if _prop_key(name):
        return f"prop:{_prop_key(name)}"
    errors.append(f"cannot filter by {name!r} (expected a visit:, event: or event:props: "
                  "dimension)")
    return None


def _filters(value: Any, errors: list[str], depth: int = 1) -> tuple[Filter, ...]:
    if not isinstance(value, list):
        errors.append("filters must be a list")
        return ()
    if len(value) == 2 and value[0] == "and" and isinstance(value[1], list):
        value = value[1]                     # ["and", [f1, f2]] is the same as [f1, f2]
    if depth > MAX_FILTER_DEPTH:
        errors.append(f"filters are nested more than {MAX_FILTER_DEPTH} levels deep")
        return ()
    problem = filter_count_problem(len(value))
    if problem:                              # before any is parsed: one reason, not 1,000
        errors.append(problem)
        return ()
    out: list[Filter] = []
    for item in value:
        if isinstance(item, list) and len(item) == 2 and item[0] == "and":
            out.extend(_filters(item[1], errors, depth + 1))
            continue
        out.extend(_one_filter(item, errors))
    total = filter_count_problem(len(out)) if depth == 1 else None
    if total:
        errors.append(total)
    return tuple(out)


def _one_filter(item: Any, errors: list[str]) -> list[Filter]:
    shape = '["is", "visit:country", ["DE"]]'
    if not (isinstance(item, list) and len(item) in (3, 4) and isinstance(item[0], str)
            and isinstance(item[1], str) and isinstance(item[2], list)):
        if isinstance(item, list) and item and item[0] in ("or", "not"):
            errors.append(f"the {item[0]!r} filter is not supported (use and, or list several "
                          "values in one is filter)")
        else:
            errors.append(f"a filter must look like {shape}, got {item!r:.80}")
        return []
    op, name, values = item[0], item[1], item[2]
    if op not in OPERATORS:
        errors.append(f"unknown filter operator {op!r} (expected {', '.join(OPERATORS)})")
        return []
    dim = internal_dimension(name, errors)
    if not values or not all(isinstance(v, str | int | float) for v in values):
        errors.append(f"filter on {name} needs a non-empty list of values")
        return []
    if dim is None:
        return []
    try:
        return [Filter(dim, OPERATORS[op], tuple(str(v) for v in values))]
    except QueryError as exc:
        errors.append(str(exc))
        return []


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


def _include(value: Any, errors: list[str]) -> dict[str, bool]:
    known = ("imports", "time_labels", "total_rows")
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        errors.append(f"include must be an object of booleans ({', '.join(known)})")
        return {}
    unknown = set(value) - set(known)
    if unknown:
        errors.append(f"unknown include options: {', '.join(sorted(unknown))}")
    return {k: bool(value.get(k, False)) for k in known}


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
