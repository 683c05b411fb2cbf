"""Forms that create, edit and delete goals and funnels (owners only).

Writes go through `shared.reports` in one write transaction with their audit entry; an
edit replaces the definition (delete + add in the same transaction), so reports never
see half of it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard_app import audit_trail, data
from shared.accounts.audit import state_of
from shared.core.clock import utc_now
from shared.reports.funnels import Funnel, FunnelStep, add_funnel, remove_funnel
from shared.reports.goals import Goal, add_goal, remove_goal
from shared.stats.query import QueryError
from shared.storage import write_transaction


def _apply(action: Any) -> bool:
    """Run `action(conn)` in a write transaction; show a refused change as plain text."""
    try:
        with write_transaction(data.current_engine()) as conn:
            action(conn)
    except QueryError as exc:
        st.error("Not saved.")
        st.text(str(exc))
        return False
    data.clear()
    return True


KINDS = {"page": "Page visit", "scroll": "Scroll depth", "event": "Custom event"}


def _goal_fields(goal: Goal | None, key: str) -> dict[str, Any]:
    kinds = list(KINDS)
    kind = st.radio("Kind", kinds, horizontal=True, key=f"{key}_kind",
                    index=kinds.index(goal.kind) if goal else 0,
                    format_func=KINDS.__getitem__)
    name = st.text_input("Display name (optional)", goal.display_name if goal else "",
                         key=f"{key}_name")
    target = st.text_input("Page path (wildcards * and **) or event name",
                           (goal.page_path or goal.event_name or "") if goal else "",
                           key=f"{key}_target")
    depth = st.number_input("Scrolled at least (percent of the page, scroll goals)", 1, 100,
                            goal.scroll_threshold or 75 if goal else 75, key=f"{key}_depth")
    prop_key = st.text_input("Only with property (event goals, optional)",
                             goal.prop_key or "" if goal else "", key=f"{key}_pk")
    prop_value = st.text_input("…equal to", goal.prop_value or "" if goal else "",
                               key=f"{key}_pv")
    currency = st.text_input("Revenue currency (event goals, optional, e.g. EUR)",
                             (goal.currency or "") if goal else "", key=f"{key}_cur")
    fields: dict[str, Any] = {"display_name": name.strip() or None}
    if kind == "event":
        fields["event_name"] = target.strip()
        fields["currency"] = currency.strip() or None
        if prop_key.strip():
            fields.update(prop_key=prop_key.strip(), prop_value=prop_value)
    else:
        fields["page_path"] = target.strip()
        if kind == "scroll":
            fields["scroll_threshold"] = int(depth)
    return fields


def goal_editor(site_id: int, goals: list[Goal]) -> None:
    choices: list[Goal | None] = [None, *goals]
    picked = st.selectbox("Goal", choices, key="goal_pick",
                          format_func=lambda g: "New goal…" if g is None else
                          f"#{g.id} {g.display_name}")
    key = f"goal_{picked.id if picked else 'new'}"
    with st.form(key):
        fields = _goal_fields(picked, key)
        save = st.form_submit_button("Save goal", type="primary")
        delete = picked is not None and st.form_submit_button("Delete goal")
    if save and _apply(lambda conn: _replace_goal(conn, site_id, picked, fields)):
        st.rerun()
    if delete and picked and _apply(lambda conn: _remove_goal(conn, site_id, picked.id)):
        st.rerun()


def _replace_goal(conn: Any, site_id: int, old: Goal | None, fields: dict[str, Any]) -> None:
    if old is not None:
        remove_goal(conn, site_id, old.id)
    goal = add_goal(conn, site_id, now=utc_now(), **fields)
    if old is None:
        audit_trail.record(conn, "goal.add", f"goal {goal.id}", site_id=site_id,
                           after=state_of(goal))
    else:
        audit_trail.record(conn, "goal.update", f"goal {old.id} (now {goal.id})",
                           site_id=site_id, before=state_of(old), after=state_of(goal))


def _remove_goal(conn: Any, site_id: int, goal_id: int) -> None:
    goal = remove_goal(conn, site_id, goal_id)
    audit_trail.record(conn, "goal.remove", f"goal {goal.id}", site_id=site_id,
                       before=state_of(goal))


def _parse_steps(text: str) -> list[FunnelStep]:
    """One step a line: `/path` for a page (wildcards allowed), else an event name."""
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            steps.append(FunnelStep("page" if line.startswith("/") else "event", line))
    return steps


def funnel_editor(site_id: int, funnels: list[Funnel]) -> None:
    choices: list[Funnel | None] = [None, *funnels]
    picked = st.selectbox("Funnel", choices, key="funnel_pick",
                          format_func=lambda f: "New funnel…" if f is None else
                          f"#{f.id} {f.name}")
    key = f"funnel_{picked.id if picked else 'new'}"
    with st.form(key):
        name = st.text_input("Name", picked.name if picked else "", key=f"{key}_name")
        steps = st.text_area("Steps, one a line: /path for a page, else an event name",
                             "\n".join(s.value for s in picked.steps) if picked else "",
                             key=f"{key}_steps")
        save = st.form_submit_button("Save funnel", type="primary")
        delete = picked is not None and st.form_submit_button("Delete funnel")
    if save and _apply(lambda conn: _replace_funnel(conn, site_id, picked, name,
                                                    _parse_steps(steps))):
        st.rerun()
    if delete and picked and _apply(lambda conn: _remove_funnel(conn, site_id, picked.id)):
        st.rerun()


def _replace_funnel(conn: Any, site_id: int, old: Funnel | None, name: str,
                    steps: list[FunnelStep]) -> None:
    if old is not None:
        remove_funnel(conn, site_id, old.id)
    funnel = add_funnel(conn, site_id, name, steps, now=utc_now())
    if old is None:
        audit_trail.record(conn, "funnel.add", f"funnel {funnel.id}", site_id=site_id,
                           after=state_of(funnel))
    else:
        audit_trail.record(conn, "funnel.update", f"funnel {old.id} (now {funnel.id})",
                           site_id=site_id, before=state_of(old), after=state_of(funnel))


def _remove_funnel(conn: Any, site_id: int, funnel_id: int) -> None:
    funnel = remove_funnel(conn, site_id, funnel_id)
    audit_trail.record(conn, "funnel.remove", f"funnel {funnel.id}", site_id=site_id,
                       before=state_of(funnel))
