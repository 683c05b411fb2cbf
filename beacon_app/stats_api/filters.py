"""Stats API, parse step for `filters`: Plausible's filter JSON -> the query layer's
`Filter` trees, or every reason it is not one.

Simple filters `[op, dimension, clauses]` (plus a modifiers object), the logical groups
`["and", [...]]`, `["or", [...]]`, `["not", f]` and the behavioural
`["has_done", f]` / `["has_not_done", f]`. `event:goal` stands for the site's goals of
those display names (each a page or event condition), so it is translated once the
site is known (`goals`); without them the structure alone is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.reports.goals import Goal
from shared.stats.dimensions import VISIT_DIMENSIONS
from shared.stats.limits import filter_count_problem
from shared.stats.query import Filter, QueryError

OPERATORS = {"is": "is", "is_not": "is_not", "contains": "contains",
             "contains_not": "not_contains", "matches": "matches",
             "matches_not": "not_matches"}
LOGICAL = ("and", "or", "not")
BEHAVIOURAL = ("has_done", "has_not_done")
EVENT_DIMENSIONS = {"event:page": "page", "event:hostname": "hostname", "event:name": "event",
                    "event:search_term": "search_term"}
VISIT_NAMES = {f"visit:{d}": d for d in VISIT_DIMENSIONS}
# Plausible's *_name variants: the name columns are what Beacon stores for region and
# city; countries are stored as ISO codes and named on the way out (`names.py`).
NAME_DIMENSIONS = {"visit:country_name": "country", "visit:region_name": "region",
                   "visit:city_name": "city"}
DIMENSIONS: dict[str, str] = {**EVENT_DIMENSIONS, **VISIT_NAMES, **NAME_DIMENSIONS}
GOAL = "event:goal"
PROPS = "event:props:"
MAX_DEPTH = 3          # ["or", [["not", ["is", ...]]]]: deeper says nothing new
DIRECT = "Direct / None"       # Plausible's name for visits without a source


def internal_dimension(name: str) -> str | None:
    """The query layer's name of an API dimension (None when unknown)."""
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    if name.startswith(PROPS) and len(name) > len(PROPS):
        return "prop:" + name[len(PROPS):]
    return None


def parse_filters(value: Any, errors: list[str],
                  goals: Mapping[str, Goal] | None = None) -> tuple[Filter, ...]:
    """The top-level filter list (an implicit `and`)."""
    if not isinstance(value, list):
        errors.append("filters must be a list")
        return ()
    if len(value) == 2 and value[0] == "and" and isinstance(value[1], list):
        value = value[1]                     # ["and", [f1, f2]] is the same as [f1, f2]
    problem = filter_count_problem(len(value))
    if problem:                              # before any is parsed: one reason, not 1,000
        errors.append(problem)
        return ()
    parsed = [f for f in (_one(item, errors, goals, 1) for item in value) if f is not None]
    total = filter_count_problem(sum(len(f.leaves()) for f in parsed))
    if total:                                # nested groups count filter by filter
        errors.append(total)
    return tuple(parsed)


def _one(item: Any, errors: list[str], goals: Mapping[str, Goal] | None,
         depth: int) -> Filter | None:
    if depth > MAX_DEPTH:
        errors.append(f"filters are nested more than {MAX_DEPTH} levels deep")
        return None
    if not (isinstance(item, list) and item and isinstance(item[0], str)):
        errors.append(f'a filter must look like ["is", "visit:country", ["DE"]], got {item!r:.80}')
        return None
    op = item[0]
    try:
        if op in LOGICAL or op in BEHAVIOURAL:
            return _group(item, errors, goals, depth)
        return _simple(item, errors, goals)
    except QueryError as exc:
        errors.append(str(exc))
        return None


def _group(item: list[Any], errors: list[str], goals: Mapping[str, Goal] | None,
           depth: int) -> Filter | None:
    op = item[0]
    many = op in ("and", "or")
    if len(item) != 2 or (many and not (isinstance(item[1], list) and item[1])):
        shape = f'["{op}", [filter, ...]]' if many else f'["{op}", filter]'
        errors.append(f"a {op!r} filter must look like {shape}")
        return None
    items = item[1] if many else [item[1]]
    children = [_one(child, errors, goals, depth + 1) for child in items]
    if any(c is None for c in children):
        return None
    return Filter("", op, (), tuple(c for c in children if c is not None))


def _simple(item: list[Any], errors: list[str],
            goals: Mapping[str, Goal] | None) -> Filter | None:
    op = item[0]
    if op not in OPERATORS:
        errors.append(f"unknown filter operator {op!r} (expected "
                      f"{', '.join([*OPERATORS, *LOGICAL, *BEHAVIOURAL])})")
        return None
    if not (len(item) in (3, 4) and isinstance(item[1], str) and isinstance(item[2], list)
            and item[2] and all(isinstance(v, str | int | float) and not isinstance(v, bool)
                                for v in item[2])):
        errors.append(f'a filter must look like ["{op}", "visit:country", ["DE"]] with a '
                      f"non-empty list of values, got {item!r:.80}")
        return None
    name, values = item[1], tuple(str(v) for v in item[2])
    if not _modifiers_ok(op, item[3] if len(item) == 4 else {}, errors):
        return None
    if name == GOAL:
        return _goal_filter(op, values, errors, goals)
    dim = internal_dimension(name)
    if dim is None:
        errors.append(f"cannot filter by {name!r} (expected a visit:, event: or "
                      "event:props: dimension; time is set by date_range)")
        return None
    return Filter(dim, OPERATORS[op], _stored_values(name, values))


def _modifiers_ok(op: str, modifiers: Any, errors: list[str]) -> bool:
    """`case_sensitive`: Beacon's `is` compares exactly and its `contains` ignores case,
    so `{"case_sensitive": false}` is what `contains` does already; other combinations
    are refused rather than answered differently."""
    if not isinstance(modifiers, dict) or set(modifiers) - {"case_sensitive"}:
        errors.append('filter modifiers must be an object like {"case_sensitive": false}')
        return False
    wanted = modifiers.get("case_sensitive")
    if wanted is None:
        return True
    if not isinstance(wanted, bool):
        errors.append("case_sensitive must be true or false")
        return False
    ignoring = op in ("contains", "contains_not")
    if wanted == ignoring:
        errors.append(f'{op} with {{"case_sensitive": {str(wanted).lower()}}} is not '
                      f"supported: {op} here is always case-"
                      f"{'insensitive' if ignoring else 'sensitive'}")
        return False
    return True


def _stored_values(name: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """API values -> stored ones: "Direct / None" is the empty source; country names are
    stored as ISO codes."""
    if name == "visit:source":
        return tuple("" if v == DIRECT else v for v in values)
    if name == "visit:country_name":
        from beacon_app.stats_api.names import country_code
        return tuple(country_code(v) for v in values)
    return values


def _goal_filter(op: str, names: tuple[str, ...], errors: list[str],
                 goals: Mapping[str, Goal] | None) -> Filter | None:
    if op not in ("is", "contains"):
        errors.append("event:goal filters take is or contains")
        return None
    if goals is None:                      # structure checked; goals known with the site
        return Filter("event", "is", ("pageview",))
    if op == "is":
        unknown = [n for n in names if n not in goals]
        if unknown:
            errors.append(f"no goal named {', '.join(map(repr, unknown))} on this site "
                          "(see `beacon goals list`)")
            return None
        chosen = [goals[n] for n in names]
    else:
        chosen = [g for n, g in goals.items() if any(v.lower() in n.lower() for v in names)]
    if not chosen:       # no goal matches: a test no event passes
        return Filter("", "and", (), (Filter("event", "is", ("pageview",)),
                                      Filter("event", "is_not", ("pageview",))))
    return Filter("", "or", (), tuple(g.as_filter() for g in chosen))


def goal_names(value: Any) -> list[str]:
    """The goal names a top-level `is`/`contains` event:goal filter picks (for goal
    metrics), or [] when there is none."""
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list) and len(item) >= 3 and item[1] == GOAL \
                and isinstance(item[2], list):
            names += [str(v) for v in item[2]]
    return names


def has_goal_filter(value: Any) -> bool:
    return any(isinstance(item, list) and len(item) >= 3 and item[1] == GOAL
               for item in (value if isinstance(value, list) else []))
