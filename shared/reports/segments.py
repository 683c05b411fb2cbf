"""Segments: named, saved filter sets of a site ("German Google visitors", "Pricing page
readers on mobile"), usable from the dashboard (`?segment=<id>`), the Stats API
(`["is", "segment", [<id>]]`) and the DataFrame helpers.

A segment is private to the user who saved it, or shared with every user of the site
(and then also readable through the site's API keys and share links, which belong to no
user). A private segment is edited by its owner only; a shared one by its owner or an
owner of the site. The filters are kept in the query layer's own terms, validated when
saved and again when used (a dimension that stopped existing fails with its reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.stats.limits import filter_count_problem
from shared.stats.query import Filter, QueryError

S = schema.segments
MAX_NAME = 200


@dataclass(frozen=True)
class Segment:
    id: int
    site_id: int
    name: str
    filters: tuple[Filter, ...]
    owner_id: int | None          # None: saved by an administrator or the CLI
    shared: bool

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "shared": self.shared,
                "owner_id": self.owner_id, "filters": filters_to_json(self.filters)}


def filters_to_json(filters: Sequence[Filter]) -> list[list[Any]]:
    return [[f.dimension, f.operator, list(f.values)] for f in filters]


def filters_from_json(value: Any) -> tuple[Filter, ...]:
    """[[dimension, operator, [values]], ...] -> Filters; QueryError naming the problem."""
    if not isinstance(value, list) or not value:
        raise QueryError("a segment needs a non-empty list of filters")
    problem = filter_count_problem(len(value))
    if problem:
        raise QueryError(problem)
    out = []
    for item in value:
        ok = (isinstance(item, list | tuple) and len(item) == 3 and isinstance(item[0], str)
              and isinstance(item[1], str) and isinstance(item[2], list | tuple))
        if not ok:
            raise QueryError(f"a segment filter looks like [dimension, operator, [values]], "
                             f"got {item!r:.80}")
        out.append(Filter(item[0], item[1], tuple(str(v) for v in item[2])))
    return tuple(out)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise QueryError("a segment needs a name")
    if len(name) > MAX_NAME:
        raise QueryError(f"a segment's name is at most {MAX_NAME} characters")
    return name


def _from_row(row: Any) -> Segment:
    m = row._mapping
    return Segment(m["id"], m["site_id"], m["name"], filters_from_json(m["filters"]),
                   m["owner_id"], bool(m["shared"]))


def add_segment(conn: Connection, site_id: int, name: str, filters: Sequence[Filter], *,
                owner_id: int | None, shared: bool, now: datetime) -> Segment:
    checked = filters_from_json(filters_to_json(filters))
    new_id = conn.execute(sa.insert(S).values(
        site_id=site_id, name=_clean_name(name), filters=filters_to_json(checked),
        owner_id=owner_id, shared=shared, created_at=now, updated_at=now,
    ).returning(S.c.id)).scalar_one()
    return _from_row(conn.execute(sa.select(S).where(S.c.id == new_id)).one())


def _visible(user_id: int | None, is_admin: bool) -> Any:
    """Shared segments, the user's own, and for an administrator every one."""
    if is_admin:
        return sa.true()
    if user_id is None:          # an API key or a share link: no user
        return S.c.shared.is_(True)
    return sa.or_(S.c.shared.is_(True), S.c.owner_id == user_id)


def list_segments(conn: Connection, site_id: int, *, user_id: int | None = None,
                  is_admin: bool = False) -> list[Segment]:
    """The segments this user may use on the site, by name."""
    q = sa.select(S).where(S.c.site_id == site_id, _visible(user_id, is_admin))
    return [_from_row(r) for r in conn.execute(q.order_by(S.c.name, S.c.id))]


def get_segment(conn: Connection, site_id: int, segment_id: int, *,
                user_id: int | None = None, is_admin: bool = False) -> Segment:
    """A segment this user may use; the same error for "none" and "not yours"."""
    row = conn.execute(sa.select(S).where(S.c.site_id == site_id, S.c.id == segment_id,
                                          _visible(user_id, is_admin))).first()
    if row is None:
        raise QueryError(f"no segment {segment_id} on this site")
    return _from_row(row)


def may_edit(segment: Segment, *, user_id: int | None, is_admin: bool,
             is_site_owner: bool) -> bool:
    if is_admin or (user_id is not None and segment.owner_id == user_id):
        return True
    return segment.shared and is_site_owner


def update_segment(conn: Connection, segment: Segment, *, name: str | None = None,
                   filters: Sequence[Filter] | None = None, shared: bool | None = None,
                   now: datetime) -> Segment:
    """Save changes to `segment` (the caller checked `may_edit`)."""
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        values["name"] = _clean_name(name)
    if filters is not None:
        values["filters"] = filters_to_json(filters_from_json(filters_to_json(filters)))
    if shared is not None:
        values["shared"] = shared
    conn.execute(sa.update(S).where(S.c.id == segment.id).values(**values))
    return _from_row(conn.execute(sa.select(S).where(S.c.id == segment.id)).one())


def remove_segment(conn: Connection, segment: Segment) -> None:
    conn.execute(sa.delete(S).where(S.c.id == segment.id))


def segment_filters(conn: Connection, site_id: int, segment_ids: Sequence[int], *,
                    user_id: int | None = None, is_admin: bool = False) -> tuple[Filter, ...]:
    """The filters of the segments named, ANDed (as Plausible applies a segment filter)."""
    out: list[Filter] = []
    for segment_id in segment_ids:
        out.extend(get_segment(conn, site_id, segment_id, user_id=user_id,
                               is_admin=is_admin).filters)
    problem = filter_count_problem(len(out))
    if problem:
        raise QueryError(problem)
    return tuple(out)
