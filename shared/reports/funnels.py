"""Query layer: funnels - ordered steps within one visit - and how many get through.

A funnel has 2 to 8 steps, each a page (pageview path, wildcards `*` and `**`) or a
custom event name. A visit reaches step k when it has events matching steps 1..k in
that order (strictly later events, by time then id). Visitors per step are unique
visitors summed per local day, like everywhere else. Always answered from raw events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.reports.goals import path_condition
from shared.stats import filters as flt
from shared.stats import raw
from shared.stats.query import QueryError, StatsQuery
from shared.storage import dialect_for

F = schema.funnels
MIN_STEPS, MAX_STEPS = 2, 8


@dataclass(frozen=True)
class FunnelStep:
    kind: str        # "page" or "event"
    value: str       # a path pattern or an event name

    def condition(self, c: Any) -> Any:
        if self.kind == "page":
            return sa.and_(c.is_pv == 1, path_condition(c.pathname, self.value))
        return c.name == self.value


@dataclass(frozen=True)
class Funnel:
    id: int
    site_id: int
    name: str
    steps: tuple[FunnelStep, ...]


@dataclass(frozen=True)
class FunnelStepResult:
    """visitors/visits reaching the step; dropoff: visitors lost since the previous
    step; conversion_rate: percent of step 1's visitors; step_rate: of the previous."""

    step: FunnelStep
    visitors: int
    visits: int
    dropoff: int
    conversion_rate: float
    step_rate: float


@dataclass(frozen=True)
class FunnelReport:
    funnel: Funnel
    steps: list[FunnelStepResult]


def _check_steps(steps: list[FunnelStep]) -> None:
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise QueryError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(steps)}")
    for s in steps:
        if s.kind not in ("page", "event") or not s.value:
            raise QueryError(f"step {s.kind}:{s.value!r} must be page:/path or event:name")
        if s.kind == "page" and not s.value.startswith("/"):
            raise QueryError(f"page step {s.value!r} must start with /")


def _from_row(row: Any) -> Funnel:
    m = row._mapping
    steps = tuple(FunnelStep(s["kind"], s["value"]) for s in m["steps"])
    return Funnel(m["id"], m["site_id"], m["name"], steps)


def add_funnel(conn: Connection, site_id: int, name: str, steps: list[FunnelStep], *,
               now: datetime) -> Funnel:
    _check_steps(steps)
    if not name.strip():
        raise QueryError("a funnel needs a name")
    new_id = conn.execute(sa.insert(F).values(
        site_id=site_id, name=name.strip(), created_at=now,
        steps=[{"kind": s.kind, "value": s.value} for s in steps],
    ).returning(F.c.id)).scalar_one()
    return get_funnel(conn, site_id, new_id)


def list_funnels(conn: Connection, site_id: int) -> list[Funnel]:
    return [_from_row(r) for r in conn.execute(
        sa.select(F).where(F.c.site_id == site_id).order_by(F.c.id))]


def get_funnel(conn: Connection, site_id: int, funnel_id: int) -> Funnel:
    row = conn.execute(sa.select(F).where(F.c.site_id == site_id, F.c.id == funnel_id)).first()
    if row is None:
        raise QueryError(f"no funnel {funnel_id} on this site (see `beacon funnels list`)")
    return _from_row(row)


def remove_funnel(conn: Connection, site_id: int, funnel_id: int) -> Funnel:
    funnel = get_funnel(conn, site_id, funnel_id)
    conn.execute(sa.delete(F).where(F.c.id == funnel_id))
    return funnel


def _step_ctes(base: Any, steps: tuple[FunnelStep, ...]) -> list[Any]:
    """One CTE per step: (session_id, day, pos) of the earliest event completing it."""
    b = base.c
    pos = sa.func.row_number().over(partition_by=[b.session_id, b.day],
                                    order_by=[b.ts, b.id])
    flags = [sa.case((s.condition(b), 1), else_=0).label(f"s{i}") for i, s in enumerate(steps)]
    ev = (sa.select(b.session_id, b.day, pos.label("pos"),
                    *flags).where(b.is_eng == 0).cte("funnel_events"))
    ctes: list[Any] = []
    for i in range(len(steps)):
        stmt = sa.select(ev.c.session_id, ev.c.day, sa.func.min(ev.c.pos).label("pos"))
        if ctes:
            p = ctes[-1].c
            stmt = stmt.select_from(ev.join(ctes[-1], sa.and_(
                ev.c.session_id == p.session_id, ev.c.day == p.day, ev.c.pos > p.pos)))
        ctes.append(stmt.where(ev.c[f"s{i}"] == 1)
                    .group_by(ev.c.session_id, ev.c.day).cte(f"step{i}"))
    return ctes


def funnel_report(conn: Connection, query: StatsQuery, funnel: Funnel) -> FunnelReport:
    """Visitors and visits reaching each step in the query's period, under its filters
    (a visit must pass the filters; its steps may be any of its events)."""
    from shared.reports.traffic import resolve_all, scope_of

    query = resolve_all(conn, query)
    scope = scope_of(query, query.date_range.first, query.date_range.last)
    dims = sorted(flt.visit_dimensions(query.filters))
    base = raw.base_events(scope, dialect_for(conn), visit_dims=dims)
    kept = raw.visits(scope, base, dialect_for(conn), dims)
    vis = kept.where(kept.selected_columns.matched > 0).cte("funnel_visits")
    counts = []
    for cte in _step_ctes(base, funnel.steps):
        joined = sa.select(vis.c.day, vis.c.visitor).select_from(cte.join(vis, sa.and_(
            vis.c.session_id == cte.c.session_id, vis.c.day == cte.c.day)))
        pairs = joined.distinct().subquery()
        counts.append((sa.select(sa.func.count()).select_from(pairs).scalar_subquery(),
                       sa.select(sa.func.count()).select_from(joined.subquery())
                       .scalar_subquery()))
    row = conn.execute(sa.select(*[c for pair in counts for c in pair])).one()
    return FunnelReport(funnel, _results(funnel, list(row)))


def _results(funnel: Funnel, values: list[int]) -> list[FunnelStepResult]:
    out: list[FunnelStepResult] = []
    first = values[0] or 0
    for i, step in enumerate(funnel.steps):
        visitors, visits = int(values[2 * i] or 0), int(values[2 * i + 1] or 0)
        prev = out[-1].visitors if out else visitors
        out.append(FunnelStepResult(
            step, visitors, visits, prev - visitors,
            100.0 * visitors / first if first else 0.0,
            100.0 * visitors / prev if prev else 0.0))
    return out
