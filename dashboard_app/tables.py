"""Query results -> pandas DataFrames for tables, charts and downloads (no Streamlit).

Column names are what people read in the table headers and the CSV files.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard_app import formats
from shared.stats.results import METRICS, Breakdown, Metrics, Point

METRIC_LABELS: dict[str, str] = {
    "visitors": "Visitors", "visits": "Visits", "pageviews": "Pageviews",
    "views_per_visit": "Views per visit", "bounce_rate": "Bounce rate (%)",
    "visit_duration": "Visit duration (s)", "time_on_page": "Time on page (s)",
    "scroll_depth": "Scroll depth (%)", "events": "Events", "revenue": "Revenue",
}
# What a breakdown table shows per dimension kind: fewer columns read faster.
BREAKDOWN_COLUMNS = ("visitors", "visits", "pageviews", "bounce_rate", "visit_duration")
EVENT_COLUMNS = ("visitors", "pageviews", "events", "revenue")


def _metric_row(metrics: Metrics, columns: tuple[str, ...]) -> dict[str, Any]:
    return {METRIC_LABELS[m]: getattr(metrics, m) for m in columns}


# Shown for the empty value (no referrer, no campaign, unknown country ...).
NONE_LABEL = "(none)"


def breakdown_frame(result: Breakdown, value_label: str,
                    columns: tuple[str, ...] = BREAKDOWN_COLUMNS) -> pd.DataFrame:
    """One row per value: the value (as text) then the chosen metrics."""
    rows = [{value_label: r.value if r.value != "" else NONE_LABEL,
             **_metric_row(r.metrics, columns)} for r in result.rows]
    if not rows:
        return pd.DataFrame(columns=[value_label, *(METRIC_LABELS[m] for m in columns)])
    return pd.DataFrame(rows)


def amounts_text(amounts: dict[str, float]) -> str:
    """{"USD": 3, "EUR": 1234.5} -> "EUR 1,234.50; USD 3.00": one amount per currency,
    never a sum across them; "–" when there is none."""
    shown = [formats.money(v, c) for c, v in sorted(amounts.items()) if v]
    return "; ".join(shown) or formats.NOTHING


def with_revenue_text(df: pd.DataFrame, result: Breakdown,
                      by_value: dict[str, dict[str, float]]) -> pd.DataFrame:
    """The table's "Revenue" column as text per currency (`by_value`: value ->
    {currency: amount}, see shared.reports.revenue) instead of the summed amount."""
    label = METRIC_LABELS["revenue"]
    if label not in df or df.empty:
        return df
    out = df.copy()
    out[label] = [amounts_text(by_value.get(r.value, {})) for r in result.rows]
    return out


def points_frame(points: list[Point] | None) -> pd.DataFrame:
    """One row per bucket: `bucket` (local start) and every metric under its key."""
    if not points:
        return pd.DataFrame(columns=["bucket", *METRICS])
    return pd.DataFrame([{"bucket": p.bucket, **p.metrics.as_dict()} for p in points])


def rounded(df: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Floats rounded for display and download; counts stay integers."""
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(digits)
    return out
