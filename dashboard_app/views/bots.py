"""Bots & AI agents page: the hits the beacon dropped as automated, per day by
category, and the agent families that sent them (GPTBot, ClaudeBot, ...).

The counts come from `bot_counts` (no user agent is stored, only the family a bot list
names); every name is shown as text. Days are the UTC days the hits arrived on.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import charts, data
from dashboard_app.ui import data_table, fmt_int, site_page
from shared.core.bot_categories import BotCategory


def _label(value: str) -> str:
    try:
        return BotCategory(value).label
    except ValueError:
        return value


def render() -> None:
    page = site_page("Bots & AI agents")
    if page is None:
        return
    ctx, site = page
    days = data.query_for(ctx.frame, site).date_range
    st.caption("Hits the beacon did not count as visits because a crawler, an AI agent, "
               "a monitor or a script sent them. Days in UTC; filters do not apply here.")
    url = data.url()
    total = data.bot_total(url, site.id, days.first, days.last)
    st.metric("Bot hits", fmt_int(total))
    if not total:
        st.info("No bot hits in this period.")
        return
    per_day = pd.DataFrame(
        [(d, _label(c), n) for (d, c), n in data.bot_rows(url, site.id, days.first,
                                                           days.last, ("day", "category"))],
        columns=["Day", "Category", "Hits"])
    st.plotly_chart(charts.stacked_days(per_day, "Day", "Category", "Hits",
                                        "Bot hits per day by category"),
                    use_container_width=True)
    families = pd.DataFrame(
        [(f, _label(c), n) for (c, f), n in data.bot_rows(url, site.id, days.first,
                                                           days.last, ("category", "family"))],
        columns=["Agent", "Category", "Hits"])
    st.subheader("Top agents", anchor=False)
    data_table(families, "bot-agents", key="bot_agents")
    st.subheader("By category", anchor=False)
    by_category = families.groupby("Category", as_index=False)["Hits"].sum() \
        .sort_values("Hits", ascending=False)
    data_table(by_category, "bot-categories", key="bot_categories")


render()
