"""Downloads: DataFrames to CSV or Parquet bytes, safe to open in a spreadsheet.

Every CSV cell goes through the app's one formatter: a metric's number is rounded to that
metric's decimals by `formats.cell` (no 2430.7000000000003; counts and durations whole),
a missing value is an empty cell. Text cells a spreadsheet would run as a formula (a
visitor could plant `=HYPERLINK(...)` in a URL or property) get a leading apostrophe
through the exports' one rule, `shared.dataout.export.neutralise` (OWASP's advice;
spreadsheets hide the apostrophe). Numbers are left numbers, so a negative number stays a
number. Parquet keeps raw values: it is read by programs, not spreadsheets.
"""

from __future__ import annotations

import io
import math
from datetime import date
from decimal import Decimal
from numbers import Integral, Real

import pandas as pd

from dashboard_app import formats
from dashboard_app.tables import METRIC_LABELS
from shared.dataout import export

# A table column's header -> the metric whose decimals its numbers take. Other numeric
# columns (a raw export's amounts, coordinates) keep their value, cleaned of binary noise.
METRIC_OF_LABEL: dict[str, str] = {
    **{label: metric for metric, label in METRIC_LABELS.items()},
    "Conversion rate (%)": "conversion_rate", "Conversions (visitors)": "conversions",
    "Of first step (%)": "conversion_rate", "Of previous step (%)": "conversion_rate",
}


def neutralise(value: object) -> object:
    return export.neutralise(value) if isinstance(value, str) else value


def csv_value(metric: str, value: object) -> object:
    """One CSV cell: text made formula-safe, a fraction rounded to the metric's decimals,
    a whole number as it is, nothing as an empty cell."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return export.neutralise(value)
    if isinstance(value, bool | Integral):
        return value
    if isinstance(value, Real | Decimal):   # Decimal: PostgreSQL's NUMERIC sums
        if metric in formats.KNOWN:
            return formats.cell(metric, float(value))
        return float(f"{float(value):.12g}")    # 0.1 + 0.2 -> 0.3, 19.99 stays 19.99
    # Times and dates as pandas writes them; anything else as formula-safe text.
    return value if isinstance(value, pd.Timestamp | date) else neutralise(str(value))


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        metric = METRIC_OF_LABEL.get(str(column), str(column))   # a label, or a metric key
        # dtype object: pandas would turn [12, None] back into 12.0 and NaN.
        out[column] = pd.Series([csv_value(metric, v) for v in out[column]],
                                index=out.index, dtype=object)
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    # CRLF rows (RFC 4180): Python's csv quotes a field holding any character of the line
    # terminator, so a visitor's lone CR is quoted too instead of splitting the row.
    return csv_safe(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()
