"""Goals & funnels page: conversions, rates and revenue per goal; each funnel as a chart
with drop-off; owners create, edit and delete both here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import charts, data, formats, goal_forms
from dashboard_app.tables import amounts_text
from dashboard_app.ui import data_table, site_page
from shared.reports.funnels import Funnel
from shared.stats.query import StatsQuery


def goals_table(query: StatsQuery) -> pd.DataFrame:
    results = data.goal_conversions(data.url(), query)
    df = pd.DataFrame([{"Goal": r.goal.display_name, "Conversions (visitors)": r.conversions,
                        "Completions": r.completions,
                        "Conversion rate (%)": round(r.conversion_rate, 2),
                        "Revenue": _revenue(r.revenue, r.goal.currency),
                        "Revenue in other currencies": _other(r.other_revenue)}
                       for r in results])
    if df.empty:
        st.caption("No goals yet.")
        return df
    data_table(df, "goals", "goals", width="stretch")
    return df


def _revenue(amount: float, currency: str | None) -> str:
    """The goal's revenue in its own currency ("EUR 7,516.00"), "–" without one."""
    return formats.money(amount, currency) if amount else formats.NOTHING


def _other(amounts: dict[str, float]) -> str:
    """Amounts in currencies other than the goal's, each apart: never added to it."""
    return amounts_text(amounts)


def funnel_panel(query: StatsQuery, funnel: Funnel) -> None:
    report = data.funnel_report(data.url(), query, funnel)
    labels = [s.step.value for s in report.steps]
    st.plotly_chart(charts.funnel(labels, [s.visitors for s in report.steps],
                                  funnel.name), key=f"funnel_{funnel.id}",
                    config=charts.PLOT_CONFIG)
    df = pd.DataFrame([{"Step": s.step.value, "Kind": s.step.kind, "Visitors": s.visitors,
                        "Drop-off": s.dropoff, "Of first step (%)": round(s.conversion_rate, 1),
                        "Of previous step (%)": round(s.step_rate, 1)} for s in report.steps])
    data_table(df, f"funnel-{funnel.id}", f"funnel_{funnel.id}", width="stretch")


def render() -> None:
    page = site_page("Goals & funnels")
    if page is None:
        return
    ctx, site = page
    query = data.query_for(ctx.frame, site)
    goals, funnels = data.goals_and_funnels(site.id)
    st.subheader("Goals", anchor=False)
    st.caption("Conversions are unique visitors (summed per day) whose visit completed the "
               "goal; the rate divides them by the period's visitors under the same filters.")
    goals_table(query)
    st.subheader("Funnels", anchor=False)
    if not funnels:
        st.caption("No funnels yet.")
    for funnel in funnels:
        funnel_panel(query, funnel)
    if ctx.can_edit:
        st.divider()
        left, right = st.columns(2)
        with left, st.expander("Create or edit a goal"):
            goal_forms.goal_editor(site.id, goals)
        with right, st.expander("Create or edit a funnel"):
            goal_forms.funnel_editor(site.id, funnels)


render()
