"""The writer's events insert (`append_event_tuples`), on SQLite and PostgreSQL: every
column round-trips exactly, hostile text included; stored and repeated uids are skipped;
a rolled-back batch does not break the next one."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.core.records import EVENT_COLUMNS, Event
from shared.ingest.events import append_event_tuples
from shared.storage import dialect_for, write_transaction

HOSTILE = "tab\there\nnew line \\N back\\slash 'quote\" <b>x</b> ✓ 日本 \U0001f600 \\."


def _event(uid: int, **fields: object) -> Event:
    return Event(site_id=1, ts=datetime(2026, 3, 10, 12, 0, 1, 234567), name="pageview",
                 uid=uid, **fields)  # type: ignore[arg-type]


def _append(engine: Engine, events: list[Event]) -> None:
    with write_transaction(engine) as conn:
        append_event_tuples(conn, [e.to_tuple(dialect_for(conn).time_value) for e in events])


def _stored(engine: Engine) -> dict[int, dict[str, object]]:
    columns = [schema.events.c[name] for name in EVENT_COLUMNS]
    with engine.connect() as conn:
        return {r.uid: dict(r._mapping) for r in conn.execute(sa.select(*columns))}


def test_every_column_round_trips(engine: Engine) -> None:
    full = _event(2**63 - 1, hostname="example.com", pathname="/a " + HOSTILE,
                  visitor_id=-(2**63), session_id=2**62, referrer=HOSTILE,
                  referrer_source="Google", channel="Organic Search", utm_source=HOSTILE,
                  utm_medium="email", utm_campaign="c", utm_term="t", utm_content="x",
                  click_id=True, country="DE", region="Berlin", city="Berlin",
                  browser="Chrome", browser_version="124", os="Windows", os_version="11",
                  device="desktop", language="de", props={"plan": HOSTILE, "k\\": "\n"},
                  revenue_amount=19.9, revenue_currency="EUR", engagement_ms=5300,
                  scroll_depth=100, interactive=False)
    bare = _event(7)      # empty strings, empty props, NULLs
    _append(engine, [full, bare])
    stored = _stored(engine)
    for event in (full, bare):
        expected = dict(zip(EVENT_COLUMNS, (getattr(event, c) for c in EVENT_COLUMNS),
                            strict=True))
        assert stored[event.uid] == expected


def test_stored_and_repeated_uids_are_skipped(engine: Engine) -> None:
    _append(engine, [_event(1, pathname="/first")])
    _append(engine, [_event(1, pathname="/replayed"), _event(2, pathname="/a"),
                     _event(2, pathname="/again"), _event(3)])
    stored = _stored(engine)
    assert sorted(stored) == [1, 2, 3]
    assert stored[1]["pathname"] == "/first" and stored[2]["pathname"] == "/a"


def test_a_rolled_back_first_batch_then_two_inserts_in_one_transaction(engine: Engine) -> None:
    # The first write on a fresh connection fails after its insert: on PostgreSQL the
    # rollback drops the staging table that transaction created.
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        time_value = dialect_for(conn).time_value
        append_event_tuples(conn, [_event(1).to_tuple(time_value)])
        raise RuntimeError("the batch fails after its insert")
    with write_transaction(engine) as conn:
        append_event_tuples(conn, [_event(2).to_tuple(time_value)])
        append_event_tuples(conn, [_event(3).to_tuple(time_value)])
    _append(engine, [_event(4)])
    with engine.connect() as conn:
        uids = conn.execute(sa.select(schema.events.c.uid).order_by(schema.events.c.id))
        assert list(uids.scalars()) == [2, 3, 4]
