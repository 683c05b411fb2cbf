"""Stats API v1, filter step: `visit:source==Google;event:page==/blog*` -> query filters.

The v1 syntax: `;` joins conditions (AND), `==` and `!=` compare, `|` lists values (any
of; `\\|` is a literal bar), `*` is a wildcard (`*` stops at `/`, `**` does not, as in
the query layer). `event:goal==Signup|Visit /register` names the site's goals by their
display name and becomes the goals' own conditions (an event name, a page pattern).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.reports.goals import Goal
from shared.stats.dimensions import VISIT_DIMENSIONS
from shared.stats.errors import QueryError
from shared.stats.limits import MAX_FILTERS
from shared.stats.query import Filter

from .errors import V1Error

PROPERTIES_URL = "https://plausible.io/docs/stats-api#properties"
# v1 names the empty source (direct traffic) so; the query layer stores "".
DIRECT = "Direct / None"
_SPLIT_BAR = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class V1Filter:
    """One parsed condition: `name` (a property), negated or not, its values (unescaped)."""

    name: str
    negated: bool
    values: tuple[str, ...]

    @property
    def wildcard(self) -> bool:
        return any("*" in v for v in self.values)


def dimension_of(prop: str) -> str | None:
    """`visit:source` -> `source`, `event:props:plan` -> `prop:plan`; None if unknown.
    `event:goal` is not a query-layer dimension: it is answered from the goals."""
    kind, _, name = prop.partition(":")
    if kind == "visit" and name in VISIT_DIMENSIONS:
        return name
    if kind == "event" and name.startswith("props:") and len(name) > len("props:"):
        return "prop:" + name[len("props:"):]
    if kind == "event" and name in ("page", "hostname", "name"):
        return {"page": "page", "hostname": "hostname", "name": "event"}[name]
    return None


def parse(text: str) -> list[V1Filter]:
    """The conditions of a v1 `filters` string; V1Error naming the first bad one."""
    out: list[V1Filter] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        negated = "!=" in part
        prop, sep, raw = part.partition("!=" if negated else "==")
        prop, raw = prop.strip(), raw.strip()
        if not sep or not prop or not raw:
            raise V1Error(f"Invalid filter '{part[:100]}'. Filters look like "
                          "visit:source==Google, joined by ';'")
        if prop != "event:goal" and dimension_of(prop) is None:
            raise V1Error(f"Invalid filter property '{prop[:100]}'. Please provide a valid "
                          f"filter property: {PROPERTIES_URL}")
        values = tuple(v.replace("\\|", "|").strip() for v in _SPLIT_BAR.split(raw))
        out.append(V1Filter(prop, negated, values))
    if len(out) > MAX_FILTERS:
        raise V1Error(f"At most {MAX_FILTERS} filters are accepted, got {len(out)}.")
    return out


def to_query_filters(parsed: list[V1Filter], goals: list[Goal]) -> tuple[Filter, ...]:
    """The query layer's filters for the parsed conditions (goals looked up by name)."""
    out: list[Filter] = []
    try:
        for f in parsed:
            out += goal_filters(f, goals) if f.name == "event:goal" else [_one(f)]
    except QueryError as exc:
        raise V1Error(str(exc)) from None
    return tuple(out)


def _one(f: V1Filter) -> Filter:
    dim = dimension_of(f.name) or ""
    if dim == "source":
        f = V1Filter(f.name, f.negated, tuple("" if v == DIRECT else v for v in f.values))
    if f.wildcard:
        return Filter(dim, "not_matches" if f.negated else "matches", f.values)
    return Filter(dim, "is_not" if f.negated else "is", f.values)


def selected_goals(f: V1Filter, goals: list[Goal]) -> list[Goal]:
    """The goals an `event:goal` condition names; V1Error for one not configured."""
    by_name = {g.display_name: g for g in goals}
    chosen: list[Goal] = []
    for name in f.values:
        if name not in by_name:
            what = (f"The pageview goal for the pathname `{name[6:]}`" if name.startswith("Visit ")
                    else f"The goal `{name}`")
            raise V1Error(f"{what} is not configured for this site. Find out how to configure "
                          "goals here: https://plausible.io/docs/stats-api#filtering-by-goals")
        chosen.append(by_name[name])
    return chosen


def goal_filters(f: V1Filter, goals: list[Goal]) -> list[Filter]:
    """A goal condition as query filters: event goals -> `event is names`; pageview goals
    -> `event is pageview` and `page matches paths`. Goals of both kinds, or with a
    property condition, in one OR cannot be one AND of filters: refused with a reason."""
    if f.negated:
        raise V1Error("Inequality (!=) is not supported for goals.")
    chosen = selected_goals(f, goals)
    kinds = {g.kind for g in chosen}
    if len(kinds) > 1 or (len(chosen) > 1 and any(g.prop_key for g in chosen)):
        raise V1Error("A goal filter may list several goals of one kind (all custom event "
                      "goals or all pageview goals) without property conditions; make one "
                      "request per goal instead.")
    if kinds == {"page"}:
        paths = tuple(g.page_path or "" for g in chosen)
        op = "matches" if any("*" in p for p in paths) else "is"
        return [Filter("event", "is", ("pageview",)), Filter("page", op, paths)]
    out = [Filter("event", "is", tuple(g.event_name or "" for g in chosen))]
    goal = chosen[0]
    if goal.prop_key is not None:
        out.append(Filter(f"prop:{goal.prop_key}", "is", (goal.prop_value or "",)))
    return out

