"""Forms that create, edit and delete goals and funnels (owners only).

Writes go through `shared.reports` in one write transaction; an edit replaces the
definition (delete + add in the same transaction), so reports never see half of it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard_app import data
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


def _goal_fields(goal: Goal | None, key: str) -> dict[str, Any]:
    kind = st.radio("Kind", ["page", "event"], horizontal=True, key=f"{key}_kind",
                    index=0 if goal is None or goal.kind == "page" else 1,
                    format_func={"page": "Page visit", "event": "Custom event"}.__getitem__)
    name = st.text_input("Display name (optional)", goal.display_name if goal else "",
                         key=f"{key}_name")
    target = st.text_input("Page path (wildcards * and **) or event name",
                           (goal.page_path or goal.event_name or "") if goal else "",
                           key=f"{key}_target")
    prop_key = st.text_input("Only with property (event goals, optional)",
                             goal.prop_key or "" if goal else "", key=f"{key}_pk")
    prop_value = st.text_input("…equal to", goal.prop_value or "" if goal else "",
                               key=f"{key}_pv")
    currency = st.text_input("Revenue currency (event goals, optional, e.g. EUR)",
                             (goal.currency or "") if goal else "", key=f"{key}_cur")
    fields: dict[str, Any] = {"display_name": name.strip() or None}
    if kind == "page":
        fields["page_path"] = target.strip()
    else:
        fields["event_name"] = target.strip()
        fields["currency"] = currency.strip() or None
        if prop_key.strip():
            fields.update(prop_key=prop_key.strip(), prop_value=prop_value)
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
    if delete and picked and _apply(lambda conn: remove_goal(conn, site_id, picked.id)):
        st.rerun()


def _replace_goal(conn: Any, site_id: int, old: Goal | None, fields: dict[str, Any]) -> None:
    if old is not None:
        remove_goal(conn, site_id, old.id)
    add_goal(conn, site_id, now=utc_now(), **fields)


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
    if delete and picked and _apply(lambda conn: remove_funnel(conn, site_id, picked.id)):
        st.rerun()


def _replace_funnel(conn: Any, site_id: int, old: Funnel | None, name: str,
                    steps: list[FunnelStep]) -> None:
    if old is not None:
        remove_funnel(conn, site_id, old.id)
    add_funnel(conn, site_id, name, steps, now=utc_now())
